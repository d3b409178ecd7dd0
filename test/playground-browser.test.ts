import assert from "node:assert/strict";
import {existsSync} from "node:fs";
import {mkdir, readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {chromium, type Browser} from "playwright-core";
import {FAST_ENGINE_FLAGS, removeTempDir, repoRoot, runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {reportSkip} from "./support/test-skips.ts";

/** ORCHARD_TEST_CHROMIUM names another Chromium or Chrome; otherwise Debian's, then the macOS apps (as test/dashboard-browser.test.ts). */
const CHROMIUM = process.env["ORCHARD_TEST_CHROMIUM"] ?? ["/usr/bin/chromium", "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"].find((path) => existsSync(path)) ?? "/usr/bin/chromium";
const SKIP = !existsSync(CHROMIUM) && process.env["CI"] === undefined
    ? `headless Chromium not found at ${CHROMIUM}; under CI this test runs (and .ci/run installs it)`
    : false;
if (SKIP !== false) reportSkip({
    test: "test/playground-browser.test.ts (the playground in headless Chromium)", reason: `no Chromium at ${CHROMIUM}`,
    enable: "apt-get install chromium (Debian/Ubuntu), brew install --cask chromium (macOS), or ORCHARD_TEST_CHROMIUM=<path of a Chromium or Chrome>"
});
const isLoopbackHost = (hostname: string) => hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
/** Screenshots for people to look at: out/ is git-ignored. */
const ARTIFACTS = join(repoRoot, "out", "test-artifacts");
const ENGINE = [...FAST_ENGINE_FLAGS, "--contexts", "1"];

describe("playground in headless Chromium", {skip: SKIP}, () => {
    let browser: Browser | undefined;
    let playground: OrchardProcess | undefined;
    let url = "";
    before(async () => {
        playground = OrchardProcess.start(["playground", "--model", await tinyModel(), "--port", "0", ...ENGINE]);
        [, url = ""] = await playground.waitFor(/Playground: (http:\/\/127\.0\.0\.1:\d+)\//);
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
        });
    });
    after(async () => {
        await browser?.close();
        await playground?.stop();
    });

    it("re-asks a pasted document with Ctrl+Enter and shows extract's attributes, the line and P(Yes), on a phone's width too", {timeout: 300_000}, async () => {
        const dir = await tempDir("orchard-playground-e2e-");
        try {
            const model = await tinyModel();
            const output = join(dir, "out.jsonl");
            const extract = await runOrchard(["extract", "--model", model, "--input", sampleInput, "--output", output, "--drop-prompt", ...ENGINE]);
            assert.equal(extract.code, 0, extract.stderr);
            const input = JSON.parse((await readFile(sampleInput, "utf8")).split("\n")[1] as string) as {id: string; label: number; document: string};
            const expected = JSON.parse((await readFile(output, "utf8")).split("\n")[1] as string) as {id: string; attributes: number[]};
            assert.equal(expected.id, input.id);

            const context = await (browser as Browser).newContext({viewport: {width: 1100, height: 900}});
            // the page must work offline: no request may leave the machine (fonts, scripts, anything)
            const offMachine: string[] = [];
            context.on("request", (request) => {
                const {protocol, hostname} = new URL(request.url());
                if ((protocol === "http:" || protocol === "https:" || protocol === "ws:" || protocol === "wss:") && !isLoopbackHost(hostname)) offMachine.push(request.url());
            });
            const page = await context.newPage();
            const pageErrors: string[] = [];
            page.on("pageerror", (error) => pageErrors.push(error.message));
            await page.goto(`${url}/`);
            await page.locator("#model-info", {hasText: "tiny-f32-seed1.gguf"}).waitFor();
            assert.match(await page.locator("#model-info").innerText(), /backend cpu.*context 1024/);
            // the sentiment preset fills the prompt fields
            assert.equal(await page.locator("#trailing-instruction").inputValue(), "Does the review express a positive sentiment?");
            await page.fill("#document", input.document);
            await page.fill("#doc-id", input.id);
            await page.fill("#doc-label", String(input.label));
            await page.locator("#document").press("Control+Enter");
            await page.locator("#attributes tbody tr").nth(31).waitFor({timeout: 120_000});

            const rows = await page.locator("#attributes tbody tr").evaluateAll((elements) =>
                elements.map((element) => ({name: element.children[1]?.textContent ?? "", value: Number(element.getAttribute("data-value"))})));
            assert.deepEqual(rows.map((row) => row.value), expected.attributes, "the page shows extract's attributes");
            assert.deepEqual([rows[0]?.name, rows[31]?.name], ["max_m", "last_no"]);
            assert.deepEqual(JSON.parse(await page.locator("#line").innerText()), {id: input.id, label: input.label, document: input.document, attributes: expected.attributes});
            assert.match(await page.locator("#answer").innerText(), /^(Yes|No)$/);
            const probability = Number(await page.locator("#yes-probability").innerText());
            assert.ok(probability > 0 && probability < 1);
            assert.match(await page.locator("#prompt").innerText(), /^<s>\[INST\] How can I help you\?/);
            await mkdir(ARTIFACTS, {recursive: true});
            await page.screenshot({path: join(ARTIFACTS, "playground-reask.png"), fullPage: true});

            // an empty document: the page says what is wrong instead of failing silently
            await page.fill("#document", "   ");
            await page.click("#run");
            await page.locator("#status.error", {hasText: "empty"}).waitFor();

            await page.setViewportSize({width: 390, height: 844});
            const overflow = await page.locator("html").evaluate((root: {scrollWidth: number; clientWidth: number}) => root.scrollWidth - root.clientWidth);
            assert.ok(overflow <= 0, `the page is ${overflow} px wider than a phone`);
            await page.screenshot({path: join(ARTIFACTS, "playground-phone.png"), fullPage: true});
            assert.deepEqual(offMachine, [], "requests that left the machine");
            assert.deepEqual(pageErrors, []);
        } finally {
            await removeTempDir(dir);
        }
    });

    it("chat: a sent message's answer streams in, Stop ends it, and a JSON schema gives valid JSON", {timeout: 300_000}, async () => {
        const context = await (browser as Browser).newContext({viewport: {width: 390, height: 844}});
        const offMachine: string[] = [];
        context.on("request", (request) => {
            const {protocol, hostname} = new URL(request.url());
            if ((protocol === "http:" || protocol === "https:" || protocol === "ws:" || protocol === "wss:") && !isLoopbackHost(hostname)) offMachine.push(request.url());
        });
        const page = await context.newPage();
        const pageErrors: string[] = [];
        page.on("pageerror", (error) => pageErrors.push(error.message));
        await page.goto(`${url}/`);
        await page.locator("#model-info", {hasText: "tiny-f32-seed1.gguf"}).waitFor();
        await page.click("#tab-chat");
        await page.locator("summary").click();
        await page.fill("#max-tokens", "4096");
        await page.fill("#chat-input", "Tell me a long story");
        await page.locator("#chat-input").press("Control+Enter");
        const answer = page.locator('.message[data-role="assistant"] .text').last();
        // streamed: the answer grows while the turn is still running (Stop is enabled)
        await page.waitForFunction(() => (globalThis as unknown as {document: {querySelector(s: string): {textContent: string} | null}}).document
            .querySelector('.message[data-role="assistant"] .text')?.textContent.length ?? 0 > 0);
        assert.equal(await page.locator("#chat-stop").isEnabled(), true, "the turn is still running while text arrives");
        await page.click("#chat-stop");
        await page.locator('.message[data-role="assistant"][data-finish="aborted"]').waitFor();
        assert.ok((await answer.innerText()).length > 0);
        assert.match(await page.locator("#chat-status").innerText(), /^stopped: \d+ tokens/);
        await mkdir(ARTIFACTS, {recursive: true});
        await page.screenshot({path: join(ARTIFACTS, "playground-chat.png"), fullPage: true});

        await page.click("#chat-clear");
        assert.equal(await page.locator(".message").count(), 0);
        await page.fill("#max-tokens", "64");
        await page.fill("#json-schema", JSON.stringify({type: "object", properties: {answer: {enum: ["yes", "no"]}}, required: ["answer"]}));
        await page.fill("#chat-input", "Yes or no?");
        await page.click("#chat-send");
        await page.locator('.message[data-role="assistant"][data-finish="stop"]').waitFor({timeout: 120_000});
        const json = JSON.parse(await answer.innerText()) as {answer: string};
        assert.ok(["yes", "no"].includes(json.answer), JSON.stringify(json));
        await page.screenshot({path: join(ARTIFACTS, "playground-chat-json.png"), fullPage: true});
        assert.deepEqual(offMachine, [], "requests that left the machine");
        assert.deepEqual(pageErrors, []);
        await context.close();
    });
});
