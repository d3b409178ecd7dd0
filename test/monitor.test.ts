import assert from "node:assert/strict";
import {request} from "node:http";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {DashboardServer, runCoordinator, StatusCollector} from "@orchard/coordinator";
import {fleetStatusSchema, MonitorKeys, runStatusSchema, shardJobFailureSchema, shardJobId, type WorkerHeartbeat} from "@orchard/shared";
import {startFleetWorker, type FleetWorker} from "@orchard/worker";
import {Redis} from "ioredis";
import {runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {faultEngineFactory} from "./support/fault-engine.ts";
import {TestRedisServer} from "./support/redis-server.ts";
import {waitFor} from "./support/wait-for.ts";

// Simulated engines (no model load): the 40 sample reviews are ~55 tokens each
const FAST = {tokensPerSecond: 20_000};
const TOKEN = "test-token-0123456789abcdef";

let redis: TestRedisServer;
let client: Redis;
let model: string;
let prefixes = 0;

/** GET with any headers (fetch may not set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string}> {
    return new Promise((resolve, reject) => {
        const req = request(url, {headers}, (response) => {
            let body = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({status: response.statusCode ?? 0, headers: response.headers, body}));
        });
        req.on("error", reject);
        req.end();
    });
}

/** The first events of a live stream, until `until` shows up. */
async function readStream(url: string, headers: Record<string, string>, until: RegExp): Promise<{status: number; text: string}> {
    const controller = new AbortController();
    const response = await fetch(url, {headers, signal: controller.signal});
    if (!response.ok || response.body === null) return {status: response.status, text: await response.text()};
    let text = "";
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const deadline = Date.now() + 20_000;
    while (!until.test(text) && Date.now() < deadline) {
        const {value, done} = await reader.read();
        if (done) break;
        text += decoder.decode(value, {stream: true});
    }
    controller.abort();
    return {status: response.status, text};
}


describe("monitoring: heartbeats, status, dashboard, metrics", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        client = new Redis(redis.url);
        model = await tinyModel();
    });
    after(async () => {
        client?.disconnect();
        await redis?.stop();
    });

    it("a run with a poisoned shard: status, JSON schema, workers' machine facts, lost workers, then the dashboard (token, live stream, retry, metrics)", async () => {
        const keyPrefix = `monitor-${prefixes++}`;
        const outputDir = await tempDir("orchard-monitor-");
        const start = (name: string, poison: string[] = []) => startFleetWorker({
            modelPath: model, redisUrl: redis.url, keyPrefix, name, simulatedEngine: FAST, engine: {contextSize: 1024}, createEngine: faultEngineFactory({poisonIds: poison})
        });
        let poisoned: FleetWorker | undefined = await start("poisoned", ["review-010"]);
        const summary = await runCoordinator({
            modelPath: model, inputPaths: [sampleInput], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 4, shardTaper: false, shardAttempts: 1,
            contextSize: 1024, pollIntervalMs: 50, simulatedEngine: FAST
        });
        assert.equal(summary.status, "incomplete");
        const runId = summary.runId;

        // the status as the collector reads it, valid against the published schema
        const collector = new StatusCollector({redis: client, keyPrefix});
        const fleet = fleetStatusSchema.parse(await collector.fleet({runId}));
        const run = fleet.runs[0];
        assert.ok(run !== undefined);
        assert.deepEqual([run.status, run.health, run.coordinator], ["incomplete", "error", "absent"]);
        assert.deepEqual(run.documents, {total: 40, merged: 36, missing: 4, retrying: 0, remaining: 0});
        assert.deepEqual(run.inputs.map(({merged, missing, percent}) => ({merged, missing, percent})), [{merged: 36, missing: 4, percent: 100}]);
        assert.deepEqual(run.failedShards.map(({shard, firstDocument, documents, code, attempts}) => ({shard, firstDocument, documents, code, attempts})),
            [{shard: 2, firstDocument: 9, documents: 4, code: "ENGINE_FAILED", attempts: 1}]);
        assert.match(run.failedShards[0]?.message ?? "", /review-010/);
        // the worker's failure travels as data (a JSON object the shared schema parses), not as a "[CODE] message" string
        const failedReason = await client.hget(`${keyPrefix}:${poisoned.queueName}:${shardJobId(runId, 0, 2)}`, "failedReason");
        assert.equal(shardJobFailureSchema.parse(JSON.parse(failedReason ?? "null")).code, "ENGINE_FAILED");
        const row = run.workers.find((worker) => worker.name === "poisoned");
        assert.deepEqual([row?.documents, row?.shards, row?.failures, row?.backend, row?.state], [36, 9, 1, "simulated", "idle"]);
        assert.ok(run.throughput.tokens > 36 * 20 && (row?.tokensPerSecond ?? 0) > 0, JSON.stringify(run.throughput));
        const facts = fleet.workers.find((worker) => worker.name === "poisoned");
        assert.ok(facts !== undefined && facts.host !== "" && facts.cores > 0 && facts.memory.totalBytes > 0 && facts.model.file === "tiny-f32-seed1.gguf", JSON.stringify(facts));
        assert.equal(facts.totals.documents, 36);

        // a worker silent past the threshold reads as lost
        const keys = new MonitorKeys(keyPrefix);
        const ghost: WorkerHeartbeat = {...JSON.parse(await client.get(keys.worker("poisoned")) as string) as WorkerHeartbeat, name: "ghost", state: "busy"};
        const now = await collector.nowMs();
        await client.set(keys.worker("ghost"), JSON.stringify({...ghost, atMs: now - 120_000}));
        await client.zadd(keys.workers(), now - 120_000, "ghost");
        const withGhost = await collector.fleet();
        assert.equal(withGhost.workers.find((worker) => worker.name === "ghost")?.state, "lost");

        // the CLI: `status RUN --json` parses with the schema; plain `status` lists the run and the workers
        const [json, text] = await Promise.all([
            runOrchard(["status", runId, "--json", "--redis", redis.url, "--redis-prefix", keyPrefix]),
            runOrchard(["status", "--redis", redis.url, "--redis-prefix", keyPrefix])
        ]);
        assert.equal(json.code, 0, json.stderr);
        const parsed = fleetStatusSchema.parse(JSON.parse(json.stdout));
        assert.deepEqual([parsed.runs.length, parsed.runs[0]?.runId, parsed.runs[0]?.documents.merged], [1, runId, 36]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, new RegExp(`${runId} +incomplete .* 100\\.0% +36/40`));
        assert.match(text.stdout, /ghost .* lost/);
        const missing = await runOrchard(["status", "no-such-run", "--redis", redis.url, "--redis-prefix", keyPrefix]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /no run "no-such-run".*\[RUN_NOT_FOUND\]/);

        await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix, stateDir: join(outputDir, ".orchard"), port: 0, token: TOKEN, refreshMs: 200});
        const api = `${dashboard.url}/api/runs/${runId}`;
        const bearer = {authorization: `Bearer ${TOKEN}`};
        try {
            // every route refuses a request without the token, and accepts it with it
            assert.equal((await fetch(api)).status, 401);
            assert.equal((await fetch(api, {headers: {authorization: "Bearer wrong-token-0123456789"}})).status, 401);
            const accepted = await fetch(api, {headers: bearer});
            assert.equal(accepted.status, 200);
            assert.equal(runStatusSchema.parse(await accepted.json()).runId, runId);
            assert.equal((await fetch(`${dashboard.url}/metrics`)).status, 401);
            assert.equal((await fetch(`${dashboard.url}/queues/`)).status, 401);
            assert.equal((await readStream(`${api}/events`, {}, /event: status/)).status, 401);
            const live = await readStream(`${api}/events?token=${TOKEN}`, {}, /event: throughput/);
            assert.equal(live.status, 200);
            assert.match(live.text, new RegExp(`event: status\\ndata: \\{"runId":"${runId}"`));
            assert.match(live.text, /event: throughput\ndata: \{"runId":/);
            // a page opened with ?token= gets a cookie and loses the token from its address
            const opened = await get(`${dashboard.url}/runs/${runId}?token=${TOKEN}`, {accept: "text/html"});
            assert.equal(opened.status, 303);
            assert.equal(opened.headers["location"], `/runs/${runId}`);
            const cookie = String(opened.headers["set-cookie"]).split(";")[0] as string;
            const page = await get(`${dashboard.url}/runs/${runId}`, {accept: "text/html", cookie});
            assert.equal(page.status, 200);
            assert.match(page.body, /<script type="module" src="\/assets\/dashboard\.js">/);
            // actions: token and the action header both needed
            const retryUrl = `${api}/shards/2/retry`;
            assert.equal((await fetch(retryUrl, {method: "POST", headers: {"x-orchard-action": "1"}})).status, 401);
            assert.equal((await fetch(retryUrl, {method: "POST", headers: bearer})).status, 403);
            assert.equal((await fetch(retryUrl, {method: "POST", headers: {...bearer, "x-orchard-action": "1", origin: "http://evil.example"}})).status, 403);

            // no coordinator runs the run any more: the dashboard coordinates the retry itself, with a healthy worker
            await poisoned.close();
            poisoned = undefined;
            const healthy = await start("healthy");
            try {
                const retried = await fetch(retryUrl, {method: "POST", headers: {...bearer, "x-orchard-action": "1"}});
                assert.equal(retried.status, 202, await retried.clone().text());
                assert.equal(((await retried.json()) as {mode: string}).mode, "session");
                const done = await waitFor("the retried run to complete", async () => {
                    const status = await collector.run(runId);
                    return status.status === "completed" ? status : undefined;
                });
                assert.deepEqual([done.health, done.documents.merged, done.failedShards.length], ["ok", 40, 0]);
            } finally {
                await healthy.close();
            }
            const ids = (await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id);
            assert.deepEqual(ids, Array.from({length: 40}, (_, i) => `review-${String(i + 1).padStart(3, "0")}`));

            const metrics = await fetch(`${dashboard.url}/metrics`, {headers: bearer});
            assert.equal(metrics.status, 200);
            const body = await metrics.text();
            for (const expected of [
                `orchard_run_documents{run="${runId}",state="merged"} 40`, `orchard_run_progress_ratio{run="${runId}"} 1`,
                `orchard_documents_processed_total{run="${runId}",worker="poisoned"} 36`, `orchard_documents_processed_total{run="${runId}",worker="healthy"} 4`,
                `orchard_shard_failures_total{run="${runId}",worker="poisoned"} 1`, `orchard_queue_jobs{queue="${run.queue.name}",state="failed"} 0`,
                `orchard_worker_up{worker="healthy",host=`, "# TYPE orchard_tokens_processed_total counter", "orchard_worker_tokens_per_second{worker="
            ])
                assert.ok(body.includes(expected), `${expected} missing from /metrics:\n${body}`);
        } finally {
            await poisoned?.close();
            await collector.close();
        }
    });

    it("a token-less dashboard answers only requests addressed to localhost; a public address needs a token", async () => {
        await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix: `monitor-${prefixes++}`, port: 0});
        assert.equal((await get(`${dashboard.url}/api/status`)).status, 200);
        assert.equal((await get(`${dashboard.url}/api/status`, {host: "evil.example"})).status, 403);
        await assert.rejects(DashboardServer.start({redisUrl: redis.url, host: "0.0.0.0", port: 0}), /needs? .*--token|give it a --token/);
        await assert.rejects(DashboardServer.start({redisUrl: redis.url, port: 0, token: "short"}), /at least 16 characters/);
        const refused = await runOrchard(["dashboard", "--host", "0.0.0.0", "--redis", redis.url]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /listens on 0\.0\.0\.0, beyond this machine: give it a --token.*\[INVALID_ARGUMENT\]/);
    });

    it("orchard run --dashboard serves the run while it goes on, and logs plain progress lines when not on a TTY", async () => {
        const keyPrefix = `monitor-${prefixes++}`;
        const outputDir = await tempDir("orchard-monitor-");
        // ~55 tokens per review at 400 tokens/s: the 40 reviews take ~5 s
        const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "slow", simulatedEngine: {tokensPerSecond: 400}, engine: {contextSize: 1024}});
        const run = OrchardProcess.start(["run", "--model", model, "--input", sampleInput, "--output-dir", outputDir, "--redis", redis.url, "--redis-prefix", keyPrefix, "--state-dir", join(outputDir, ".orchard"),
            "--shard-size", "4", "--context-size", "1024", "--simulate-tokens-per-second", "400", "--dashboard", "--dashboard-port", "0", "--log-format", "json"]);
        try {
            const [, url, runId] = await run.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/runs\/(\S+)/);
            const response = await fetch(`${url}/api/runs/${runId}`);
            assert.equal(response.status, 200);
            const status = runStatusSchema.parse(await response.json());
            assert.equal(status.coordinator, "active");
            const result = await run.exited;
            assert.equal(result.code, 0, result.stderr);
            assert.match(result.stderr, new RegExp(`"msg":"${runId}: \\d+/40 documents \\([\\d.]+%\\) \\| [\\d.]+ tok/s, [\\d.]+ docs/s \\| ETA [^|]+ \\| \\d+ workers active \\| 0 failed shards \\| ok"`));
            await assert.rejects(fetch(`${url}/api/runs/${runId}`), "the dashboard stops with the run");
        } finally {
            run.kill("SIGKILL");
            await worker.close();
        }
    });
});
