import assert from "node:assert/strict";
import {existsSync} from "node:fs";
import {mkdir, readFile, stat} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {chromium, type Browser} from "playwright-core";
import {repoRoot, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import type {EngineFaults} from "./support/fault-engine.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {pngStats} from "./support/png-stats.ts";
import {TestRedisServer} from "./support/redis-server.ts";
import {reportSkip} from "./support/test-skips.ts";

/** ORCHARD_TEST_CHROMIUM names another Chromium or Chrome; otherwise Debian's, then the macOS apps. */
const CHROMIUM = process.env["ORCHARD_TEST_CHROMIUM"] ?? ["/usr/bin/chromium", "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"].find((path) => existsSync(path)) ?? "/usr/bin/chromium";
const SKIP = !existsSync(CHROMIUM) && process.env["CI"] === undefined
    ? `headless Chromium not found at ${CHROMIUM}; under CI this test runs (and .ci/run installs it)`
    : false;
if (SKIP !== false) reportSkip({
    test: "test/dashboard-browser.test.ts (the dashboard in headless Chromium)", reason: `no Chromium at ${CHROMIUM}`,
    enable: "apt-get install chromium (Debian/Ubuntu), brew install --cask chromium (macOS), or ORCHARD_TEST_CHROMIUM=<path of a Chromium or Chrome>"
});
const TOKEN = "e2e-token-0123456789abcdef";
const isLoopbackHost = (hostname: string) => hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
/** Screenshots for people to look at: out/ is git-ignored. */
const ARTIFACTS = join(repoRoot, "out", "test-artifacts");
const DOCUMENTS = 120;
const POISON = "d-004";

describe("dashboard in headless Chromium", {skip: SKIP}, () => {
    let redis: TestRedisServer;
    let browser: Browser | undefined;
    const processes: OrchardProcess[] = [];

    before(async () => {
        redis = await TestRedisServer.start();
    });
    after(async () => {
        await browser?.close();
        for (const child of processes) child.kill("SIGKILL");
        await redis?.stop();
    });

    it("follows a fleet run live, retries its failed shard with a click, and shows it complete", {timeout: 300_000}, async () => {
        const model = await tinyModel();
        const dir = await tempDir("orchard-e2e-");
        const input = await writeJsonl(join(dir, "reviews.jsonl"), Array.from({length: DOCUMENTS}, (_, i) => ({
            id: `d-${String(i + 1).padStart(3, "0")}`, label: i % 2, document: `Review ${i + 1}: the room was ${i % 2 === 0 ? "lovely" : "noisy"} and breakfast ${i % 3 === 0 ? "cold" : "fine"}.`
        })));
        const prefix = "e2e";
        const connection = ["--redis", redis.url, "--redis-prefix", prefix, "--log-format", "json"];
        const start = (args: string[], faults?: EngineFaults) => {
            const child = OrchardProcess.start([...args, ...connection], faults === undefined ? {} : {faults});
            processes.push(child);
            return child;
        };
        // ~65 tokens per review: a shard (2 of them) takes ~0.5 s on mac-a, so progress visibly advances; mac-b is 4x faster
        const worker = (name: string, tokensPerSecond: number, faults?: EngineFaults) =>
            start(["worker", "--model", model, "--name", name, "--simulate-tokens-per-second", String(tokensPerSecond), "--context-size", "1024"], faults);
        const run = start(["run", "--model", model, "--input", input, "--output-dir", join(dir, "out"), "--state-dir", join(dir, ".orchard"), "--shard-size", "4",
            "--shard-attempts", "1", "--context-size", "1024", "--simulate-tokens-per-second", "250"]);
        const macA = worker("mac-a", 250, {poisonIds: [POISON]});
        const dashboard = start(["dashboard", "--port", "0", "--token", TOKEN, "--refresh-ms", "500"]);
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
        });
        const [, runId] = await run.waitFor(/Run (\S+) \(new\)/);
        const [, url] = await dashboard.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
        const context = await browser.newContext({viewport: {width: 1280, height: 1000}});
        // no page may make a request that leaves the machine (a fleet may have no internet): fonts, scripts, anything
        const offMachine: string[] = [];
        context.on("request", (request) => {
            const {protocol, hostname} = new URL(request.url());
            if ((protocol === "http:" || protocol === "https:" || protocol === "ws:" || protocol === "wss:") && !isLoopbackHost(hostname)) offMachine.push(request.url());
        });
        const page = await context.newPage();
        const pageErrors: string[] = [];
        page.on("pageerror", (error) => pageErrors.push(error.message));

        // the token travels once in the address, then as a cookie (live stream and buttons included)
        await page.goto(`${url}/runs/${runId}?token=${TOKEN}`);
        assert.equal(new URL(page.url()).search, "", "the token is dropped from the address");
        await page.locator('[data-testid="run-status"]', {hasText: "running"}).waitFor({timeout: 60_000});

        // mac-a fails the shard of the poisoned review and goes on with the others (120 documents at --shard-size 4
        // all lie in the taper at the end of an input: 2 a shard, so shard 1 holds documents 3-4)
        const failedRow = page.locator('[data-testid="failed-shard-1"]');
        await failedRow.waitFor({timeout: 90_000});
        assert.match(await failedRow.innerText(), /ENGINE_FAILED.*d-004/s);
        const progress = page.locator('[data-testid="overall-progress"]');
        const mergedBefore = Number(await progress.getAttribute("data-merged"));
        // (polled from here: the page's Content-Security-Policy forbids evaluating strings in it)
        const deadline = Date.now() + 30_000;
        while (Number(await progress.getAttribute("data-merged")) <= mergedBefore) {
            assert.ok(Date.now() < deadline, `progress stayed at ${mergedBefore} merged documents`);
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await page.locator('[data-testid="worker-row-mac-a"]').waitFor();
        assert.notEqual(await page.locator('[data-testid="tokens-per-second"] .v').innerText(), "0.0");
        await mkdir(ARTIFACTS, {recursive: true});
        await page.screenshot({path: join(ARTIFACTS, "dashboard-e2e-failure.png"), fullPage: true});

        // the poisoned Mac leaves; a click queues the shard for a retry; a healthy Mac joins and finishes the run
        await macA.stop();
        await page.click('[data-testid="retry-shard-1"]');
        const toast = page.locator("#toast");
        await toast.waitFor({state: "visible"});
        const toastText = await toast.innerText();
        assert.match(toastText, /shard #1 queued|rerunning shard #1/);
        await page.locator('[data-testid="retrying-1"]').waitFor({timeout: 30_000});
        worker("mac-b", 1000);
        await page.locator('[data-testid="run-status"]', {hasText: "completed"}).waitFor({timeout: 120_000});
        await page.locator('[data-testid="no-failed-shards"]').waitFor();
        await page.locator('[data-testid="worker-row-mac-b"]').waitFor();
        assert.match(await page.locator('[data-testid="worker-row-mac-a"]').innerText(), /stopped/, "a worker that exited cleanly reads as stopped");
        assert.equal(await page.locator('[data-testid="run-health"]').innerText(), "healthy");
        assert.equal(await progress.getAttribute("data-merged"), String(DOCUMENTS));
        await page.locator('[data-testid="throughput-chart"]').waitFor();

        const screenshot = join(ARTIFACTS, "dashboard-e2e.png");
        await page.screenshot({path: screenshot, fullPage: true});
        const png = await readFile(screenshot);
        const stats = pngStats(png);
        assert.ok((await stat(screenshot)).size > 40_000, `the screenshot is only ${png.length} bytes`);
        assert.ok(stats.width === 1280 && stats.height >= 1000, `${stats.width}x${stats.height}`);
        assert.ok(stats.colors > 100 && stats.nonBackground > 0.1, `a blank page? ${JSON.stringify(stats)}`);
        assert.deepEqual(pageErrors, []);

        // the fleet page and bull-board's page load nothing from elsewhere either
        await page.goto(`${url}/`);
        await page.locator(`[data-testid="run-card-${runId}"]`).waitFor();
        await page.goto(`${url}/queues/`);
        await page.getByText("Orchard queues").first().waitFor();
        await page.waitForLoadState("networkidle");
        assert.deepEqual(offMachine, [], "requests that left the machine");
        assert.deepEqual(pageErrors, []);

        // queued while the coordinator was in its first pass: it reran the shard and exits 0
        const result = await run.exited;
        assert.equal(result.code, /queued/.test(toastText) ? 0 : 4, result.stderr.slice(-3000));
        const ids = (await readFile(join(dir, "out", "reviews.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id);
        assert.deepEqual(ids, Array.from({length: DOCUMENTS}, (_, i) => `d-${String(i + 1).padStart(3, "0")}`));
    });
});
