import assert from "node:assert/strict";
import {readFile, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runCoordinator, type RunSummary} from "@orchard/coordinator";
import {FleetKeys, MonitorKeys, workerHeartbeatSchema, type ShardTaper} from "@orchard/shared";
import {ensureSyntheticModel, runExtract, startFleetWorker, type FleetWorker} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, repoRoot, runOrchard, sampleInput, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// one llama.cpp thread per engine: several engines share this 2-core machine (2 threads each thrash
// it ~10x slower), and the attributes do not depend on the thread count
const ENGINE = {threads: 1, gpu: false as const, contextSize: 1024};
const FLEET_ENGINE_FLAGS = [...FAST_ENGINE_FLAGS, "--threads", "1"];

let redis: TestRedisServer;
let model: string;
let dir: string;
let reference: string;
let small: string;
let smallReference: string;
let prefixes = 0;

async function extractReference(input: string): Promise<string> {
    const output = join(dir, `reference-${prefixes++}.jsonl`);
    await runExtract({modelPath: model, inputPath: input, outputPath: output, engine: ENGINE});
    return readFile(output, "utf8");
}

/** A fleet run in this process: `workers` in-process workers (plus `others`), a coordinator, then everything closed. */
async function fleetRun(options: {workers: number; shardSize: number; shardTaper?: ShardTaper | false; inputs: string[]; otherModelWorkers?: string[]}): Promise<{summary: RunSummary; workers: FleetWorker[]; others: FleetWorker[]; outputDir: string; keyPrefix: string}> {
    const keyPrefix = `fleet-run-${prefixes++}`;
    const outputDir = await tempDir("orchard-fleet-out-");
    const start = (modelPath: string, name: string) => startFleetWorker({modelPath, redisUrl: redis.url, keyPrefix, name, engine: ENGINE});
    const workers = await Promise.all(Array.from({length: options.workers}, (_, i) => start(model, `w${i + 1}`)));
    const others = await Promise.all((options.otherModelWorkers ?? []).map((path, i) => start(path, `other${i + 1}`)));
    try {
        const summary = await runCoordinator({
            modelPath: model, inputPaths: options.inputs, outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            shardSize: options.shardSize, contextSize: ENGINE.contextSize, pollIntervalMs: 50,
            ...(options.shardTaper === undefined ? {} : {shardTaper: options.shardTaper})
        });
        return {summary, workers, others, outputDir, keyPrefix};
    } finally {
        await Promise.all([...workers, ...others].map((worker) => worker.close()));
    }
}

describe("orchard run: the fleet writes exactly what orchard extract writes", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-fleet-");
        reference = await extractReference(sampleInput);
        small = await writeJsonl(join(dir, "small.jsonl"), [
            {id: "s1", label: 0, document: "  Short one.  ", info: "x"},
            "",
            {id: "s2", label: 1, document: "Another document, with a group.", group: "g"},
            {id: "s3", label: 0, document: "Third."}
        ]);
        smallReference = await extractReference(small);
    });
    after(async () => {
        await redis?.stop();
    });

    it("1 worker, shard size 7 (tapered: 40 documents all lie in the last 128 x 7, so 2 a shard), next to a worker holding another model, which never takes a shard", async () => {
        const otherModel = await ensureSyntheticModel({preset: "tiny", type: "f16", seed: 1, dir: join(repoRoot, "models")});
        const {summary, workers, others, outputDir, keyPrefix} = await fleetRun({workers: 1, shardSize: 7, inputs: [sampleInput], otherModelWorkers: [otherModel]});
        assert.equal(summary.status, "completed");
        assert.equal(summary.mergedDocuments, 40);
        assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), reference);
        assert.equal(workers[0]?.stats.shards, 20);
        // the worker reused its prompt's prefix for every document (default --prefix-reuse auto) and says so in its last heartbeat
        const heartbeat = workerHeartbeatSchema.parse(JSON.parse(String(await redis.command("GET", new MonitorKeys(keyPrefix).worker("w1")))));
        assert.deepEqual(heartbeat.engine.prefixReuse, {reused: 40, full: 0});
        assert.notEqual(others[0]?.queueName, workers[0]?.queueName);
        assert.deepEqual(others[0]?.stats, {shards: 0, documents: 0, tokens: 0}, "a worker with other weights must never process the run's shards");
    });

    it("2 workers, shard size 3, all shards whole (no taper)", async () => {
        const {summary, workers, outputDir} = await fleetRun({workers: 2, shardSize: 3, shardTaper: false, inputs: [sampleInput]});
        assert.equal(summary.status, "completed");
        assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), reference);
        assert.equal(workers.reduce((sum, worker) => sum + worker.stats.shards, 0), 14, "each shard processed once");
    });

    it("3 workers, shard size 7 with a short taper: whole shards, then shrinking ones (7, 7, 7, 5, 4, 3, 2, 2, 3)", async () => {
        const {summary, workers, outputDir} = await fleetRun({workers: 3, shardSize: 7, shardTaper: {divisor: 4, minimum: 2}, inputs: [sampleInput]});
        assert.equal(summary.status, "completed");
        assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), reference);
        assert.equal(workers.reduce((sum, worker) => sum + worker.stats.shards, 0), 9, "each shard processed once");
    });

    it("4 workers, shard size 1, several inputs (one of them empty) as one run", async () => {
        const empty = join(dir, "empty.jsonl");
        await writeFile(empty, "");
        const {summary, workers, outputDir} = await fleetRun({workers: 4, shardSize: 1, inputs: [sampleInput, empty, small]});
        assert.equal(summary.status, "completed");
        assert.equal(summary.totalDocuments, 43);
        assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), reference);
        assert.equal(await readFile(join(outputDir, "small.jsonl.attributes.jsonl"), "utf8"), smallReference);
        assert.equal(await readFile(join(outputDir, "empty.jsonl.attributes.jsonl"), "utf8"), "");
        assert.equal(workers.reduce((sum, worker) => sum + worker.stats.shards, 0), 43);
    });

    it("simulated engine: a queue of its own that real workers never serve; too-long documents are reported missing, the rest merged", async () => {
        const keyPrefix = `fleet-run-${prefixes++}`;
        const outputDir = await tempDir("orchard-fleet-out-");
        const input = await writeJsonl(join(dir, "with-long.jsonl"), [
            {id: "a", label: 1, document: "fine"}, {id: "b", label: 0, document: "fine too"},
            {id: "long", label: 1, document: "word ".repeat(200)}, {id: "c", label: 1, document: "also fine"}
        ]);
        const real = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, engine: ENGINE});
        const simulated = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: {tokensPerSecond: 100_000}});
        try {
            const summary = await runCoordinator({
                modelPath: model, inputPaths: [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 2, contextSize: 64,
                pollIntervalMs: 50, simulatedEngine: {tokensPerSecond: 100_000}
            });
            assert.equal(summary.status, "incomplete");
            assert.equal(summary.mergedDocuments, 3);
            assert.deepEqual(summary.missing.map((doc) => [doc.id, doc.line, doc.code]), [["long", 3, "DOCUMENT_TOO_LONG"]]);
            assert.match(summary.missing[0]?.message ?? "", /with-long\.jsonl:3: the prompt for document "long" is \d+ tokens, longer than the context size of 64/);
        } finally {
            await Promise.all([real.close(), simulated.close()]);
        }
        assert.notEqual(simulated.queueName, real.queueName);
        assert.equal(real.stats.shards, 0, "a real worker never takes a simulated run's shards");
        assert.equal(simulated.stats.shards, 2);
        const lines = (await readFile(join(outputDir, "with-long.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as {id: string});
        assert.deepEqual(lines.map((line) => line.id), ["a", "b", "c"]);
    });

    it("a result that does not parse, or answers other documents, is dropped and its shard runs again", async () => {
        const keyPrefix = `fleet-run-${prefixes++}`;
        const outputDir = await tempDir("orchard-fleet-out-");
        let announce: (runId: string) => void = () => undefined;
        const started = new Promise<string>((resolve) => (announce = resolve));
        const running = runCoordinator({
            modelPath: model, inputPaths: [small], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 2, pollIntervalMs: 50,
            simulatedEngine: {tokensPerSecond: 100_000}, onEvent: (event) => event.type === "started" && announce(event.runId)
        });
        const runId = await started;
        const liar = {v: 1, runId, shard: 1, worker: "liar", documents: [{id: "zz", attributes: new Array(32).fill(0)}], tokens: 1, elapsedMs: 1};
        await redis.command("HSET", new FleetKeys(keyPrefix).results(runId), "0", "{not json", "1", JSON.stringify(liar));
        const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: {tokensPerSecond: 100_000}});
        try {
            const summary = await running;
            assert.equal(summary.status, "completed");
        } finally {
            await worker.close();
        }
        const lines = (await readFile(join(outputDir, "small.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as {id: string; attributes: number[]});
        assert.deepEqual(lines.map((line) => line.id), ["s1", "s2", "s3"]);
        assert.ok(lines.every((line) => line.attributes.some((value) => value !== 0)), "only the worker's real answers are merged");
        assert.equal(worker.stats.shards, 2);
    });

    it("a password-protected Redis (redis://:password@host:port)", async () => {
        await using secured = await TestRedisServer.start({password: "s3cret/with:odd@chars"});
        assert.match(secured.url, /^redis:\/\/:s3cret%2Fwith%3Aodd%40chars@127\.0\.0\.1:\d+$/);
        const outputDir = await tempDir("orchard-fleet-out-");
        const worker = await startFleetWorker({modelPath: model, redisUrl: secured.url, simulatedEngine: {tokensPerSecond: 100_000}});
        try {
            const summary = await runCoordinator({
                modelPath: model, inputPaths: [small], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: secured.url, localWorkers: 0, pollIntervalMs: 50, simulatedEngine: {tokensPerSecond: 100_000}
            });
            assert.equal(summary.status, "completed");
            assert.equal(summary.mergedDocuments, 3);
        } finally {
            await worker.close();
        }
        await assert.rejects(runCoordinator({
            modelPath: model, inputPaths: [small], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: `redis://:wrong@127.0.0.1:${secured.port}`, localWorkers: 0, overwrite: true
        }), /REDIS_UNAVAILABLE|WRONGPASS|cannot reach Redis/);
    });

    it("CLI: embedded Redis and 2 local workers; the same command again finds the run complete", async () => {
        const cwd = await tempDir("orchard-fleet-cwd-");
        const args = ["run", "--model", model, "--input", sampleInput, "--input", small, "--output-dir", "out", "--shard-size", "8", "--local-workers", "2", ...FLEET_ENGINE_FLAGS];
        const first = await OrchardProcess.start(args, {cwd}).exited;
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Run (\S+) \(new\): 0\/43 documents merged/);
        // the embedded Redis has a password on loopback too; the terminal shows it hidden
        assert.match(first.stdout, /Redis: redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(embedded\)/);
        assert.match(first.stdout, /Documents: 43 merged of 43 -> out\/sentiment\.jsonl\.attributes\.jsonl, out\/small\.jsonl\.attributes\.jsonl/);
        // the first status line comes while the local workers still load the model: starting, not "no worker is serving" (issue 14)
        const statusLines = first.stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as {health?: string}).filter((line) => line.health !== undefined);
        assert.ok(["starting", "ok"].includes(statusLines[0]?.health ?? "none"), `first status line: ${JSON.stringify(statusLines[0])}`);
        assert.equal(await readFile(join(cwd, "out", "sentiment.jsonl.attributes.jsonl"), "utf8"), reference);
        assert.equal(await readFile(join(cwd, "out", "small.jsonl.attributes.jsonl"), "utf8"), smallReference);

        const again = await OrchardProcess.start(args, {cwd}).exited;
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /is already complete: 43 documents/);
    });

    it("CLI: a bad input is refused before anything is queued or written, as extract refuses it", async () => {
        const bad = await writeJsonl(join(dir, "bad.jsonl"), [{id: "a", label: 1, document: "x"}, {id: "a", label: 0, document: "y"}]);
        const outputDir = join(dir, "never");
        const result = await runOrchard(["run", "--model", model, "--input", bad, "--output-dir", outputDir, "--redis", redis.url, "--redis-prefix", "bad", ...FLEET_ENGINE_FLAGS]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /bad\.jsonl:2: duplicate id "a" \(first seen on line 1\)/);
        assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/);
        await assert.rejects(readFile(join(outputDir, "bad.jsonl.attributes.jsonl")));
    });
});
