import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {runStatusSchema, type RunSpec, type WorkerHeartbeat} from "@orchard/shared";
import {buildRunStatus, pendingLocalWorkers, workerStateOf, workerStatusOf, type RunRecords} from "./run-status-builder.ts";

const NOW = Date.parse("2025-06-01T06:00:00Z");

function spec(): RunSpec {
    const input = (name: string, documents: number) => ({
        path: `/data/${name}`, displayPath: name, sha256: "x", sizeBytes: 1, documents, shards: Math.ceil(documents / 4), output: `/out/${name}.attributes.jsonl`
    });
    return {
        v: 1, runId: "night-1", specKey: "k", name: "night", createdAt: new Date(NOW - 3_600_000).toISOString(),
        model: {path: "/models/mixtral.gguf", fingerprint: "f".repeat(64), sizeBytes: 1},
        engine: {kind: "llama"}, queueName: "shards-ffff", inputs: [input("a.jsonl", 10), input("b.jsonl", 6)], outputDir: "/out",
        prompt: {promptText: "p", trailingInstruction: "t", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 4800},
        truncate: false, contextSize: 4096, shardSize: 4, shardAttempts: 3, retryDelayMs: 5000, maxPendingShards: 64
    };
}

function heartbeat(name: string, agoMs: number, overrides: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
    return {
        v: 1, name, state: "busy", host: `${name}.lan`, pid: 1, os: {platform: "darwin", release: "23.5.0", arch: "arm64"},
        cpu: {model: "Apple M2 Ultra", cores: 24}, memory: {totalBytes: 192 * 2 ** 30, freeBytes: 2 ** 30, processRssBytes: 2 ** 30},
        engine: {kind: "llama", backend: "metal", contexts: 2}, model: {file: "mixtral.gguf", fingerprint: "f".repeat(64), queue: "shards-ffff"},
        concurrency: 1, intervalMs: 5000, startedAtMs: NOW - 7_200_000, atMs: NOW - agoMs, current: [],
        totals: {shards: 10, documents: 320, tokens: 90_000, failures: 0}, throughput: {tokensPerSecond: 600, documentsPerSecond: 2, windowSeconds: 60},
        engineTokensPerSecond: 650, ...overrides
    };
}

function records(overrides: Partial<RunRecords> = {}): RunRecords {
    return {
        spec: spec(), state: {status: "running", cursorShard: 4, cursorBytes: 0, mergedDocuments: 7}, updatedAt: undefined, finishedAt: undefined,
        waitingShards: 0, coordinatorActive: true,
        failures: new Map([[1, {code: "ENGINE_FAILED", message: "boom", attempts: 3, at: new Date(NOW).toISOString()}]]),
        skipped: [{id: "b-2", input: 1, index: 1, line: 2, code: "DOCUMENT_TOO_LONG", message: "too long"}],
        retrying: [2],
        counters: new Map([["mac-a", {documents: 12, tokens: 3000, shards: 3, failures: 0}], ["mac-b", {documents: 4, tokens: 1000, shards: 1, failures: 3}]]),
        samples: [
            {id: "1", worker: "mac-a", shard: 0, documents: 4, tokens: 1200, elapsedMs: 10_000, endMs: NOW - 40_000},
            {id: "2", worker: "mac-a", shard: 3, documents: 4, tokens: 1200, elapsedMs: 10_000, endMs: NOW - 10_000}
        ],
        queue: {waiting: 1, active: 1, delayed: 0, prioritized: 0, failed: 1},
        ...overrides
    };
}

describe("buildRunStatus", () => {
    it("computes progress per input from the merge cursor, failures, retries and refused documents", () => {
        const heartbeats = new Map([
            ["mac-a", heartbeat("mac-a", 2000, {current: [{runId: "night-1", shard: 4, jobId: "j", documents: 2, startedAtMs: NOW - 1000}]})],
            ["mac-b", heartbeat("mac-b", 120_000)]
        ]);
        const status = runStatusSchema.parse(buildRunStatus(records(), heartbeats, NOW));
        assert.deepEqual(status.inputs.map(({file, merged, missing, retrying, percent}) => ({file, merged, missing, retrying, percent})), [
            {file: "a.jsonl", merged: 4, missing: 4, retrying: 2, percent: 80},
            {file: "b.jsonl", merged: 3, missing: 1, retrying: 0, percent: 66.67}
        ]);
        assert.deepEqual(status.documents, {total: 16, merged: 7, missing: 5, retrying: 2, remaining: 4});
        assert.deepEqual(status.shards, {total: 5, merged: 4, waiting: 0, failed: 1, retrying: 1});
        assert.deepEqual(status.failedShards.map((shard) => [shard.shard, shard.file, shard.firstDocument, shard.documents, shard.retrying]), [
            [1, "a.jsonl", 5, 4, false], [2, "a.jsonl", 9, 2, true]
        ]);
        // 2,400 tokens of 8 documents over the 50 s since the first shard started
        assert.equal(status.throughput.tokensPerSecond, 48);
        assert.equal(status.eta.seconds, 4 / 0.16);
        assert.equal(status.activeWorkers, 1);
        const [a, b] = status.workers;
        assert.deepEqual([a?.name, a?.state, a?.backend, a?.chip, a?.documents, a?.currentShards], ["mac-a", "busy", "metal", "Apple M2 Ultra", 12, [4]]);
        assert.deepEqual([b?.name, b?.state, b?.failures, b?.heartbeatAgeSeconds], ["mac-b", "lost", 3, 120]);
        assert.equal(status.health, "warning");
        assert.ok(status.problems.some((problem) => /worker mac-b \(mac-b\.lan\) is lost: silent for 2m/.test(problem)), status.problems.join("\n"));
        assert.ok(status.problems.some((problem) => /1 shard failed \(4 documents\)/.test(problem)));
    });

    it("is an error when a running run has no coordinator or no worker, ok when it completed", () => {
        const orphan = buildRunStatus(records({coordinatorActive: false, failures: new Map(), skipped: [], retrying: []}), new Map(), NOW);
        assert.equal(orphan.health, "error");
        assert.match(orphan.problems.join("\n"), /no coordinator is merging this run: resume it with `orchard resume night-1`/);
        assert.match(orphan.problems.join("\n"), /no worker is serving queue shards-ffff/);
        const done = buildRunStatus(records({
            state: {status: "completed", cursorShard: 5, cursorBytes: 0, mergedDocuments: 16}, coordinatorActive: false, failures: new Map(), skipped: [], retrying: []
        }), new Map(), NOW);
        assert.deepEqual([done.health, done.percent, done.eta.seconds, done.problems], ["ok", 100, null, []]);
    });
});

describe("a run's own local workers", () => {
    const quiet = {failures: new Map(), skipped: [], retrying: []};
    const local = ["night-1-local-1", "night-1-local-2"];

    it("while they load the model (no heartbeat yet), the run is starting, not failing for want of a worker", () => {
        const status = runStatusSchema.parse(buildRunStatus(records(quiet), new Map(), NOW, undefined, {startingLocalWorkers: local}));
        assert.deepEqual([status.health, status.problems], ["starting", ["starting 2 local workers (loading the model)"]]);
        // one reported: the other is still awaited
        const one = buildRunStatus(records(quiet), new Map([["night-1-local-1", heartbeat("night-1-local-1", 1000, {state: "idle"})]]), NOW, undefined, {startingLocalWorkers: local});
        assert.deepEqual([one.health, one.problems], ["starting", ["starting 1 local worker (loading the model)"]]);
    });

    it("once they report, health is judged as usual; a stale heartbeat of the same name does not count as reporting", () => {
        const reported = new Map(local.map((name) => [name, heartbeat(name, 1000)]));
        const ok = buildRunStatus(records(quiet), reported, NOW, undefined, {startingLocalWorkers: local});
        assert.deepEqual([ok.health, ok.problems], ["ok", []]);
        const stale = new Map(local.map((name) => [name, heartbeat(name, 60_000, {state: "stopped"})]));
        assert.equal(buildRunStatus(records(quiet), stale, NOW, undefined, {startingLocalWorkers: local}).health, "starting");
        // without local workers to wait for, nobody on the queue is the error it always was
        const none = buildRunStatus(records(quiet), new Map(), NOW);
        assert.equal(none.health, "error");
        assert.match(none.problems.join("\n"), /no worker is serving queue shards-ffff/);
    });

    it("a worse problem still shows: no coordinator is an error, a failed shard a warning", () => {
        const orphan = buildRunStatus(records({...quiet, coordinatorActive: false}), new Map(), NOW, undefined, {startingLocalWorkers: local});
        assert.equal(orphan.health, "error");
        const failed = buildRunStatus(records({...quiet, failures: records().failures}), new Map(), NOW, undefined, {startingLocalWorkers: local});
        assert.deepEqual([failed.health, failed.problems.length], ["warning", 2]);
    });

    it("pendingLocalWorkers: the names without a live heartbeat on the run", () => {
        assert.deepEqual(pendingLocalWorkers(local, [{name: "night-1-local-2", state: "busy"}, {name: "night-1-local-1", state: "lost"}, {name: "mac-a", state: "idle"}]), ["night-1-local-1"]);
    });
});

describe("worker states", () => {
    it("a worker silent past the threshold (and past 3 of its own intervals) is lost; a stopped one stays stopped", () => {
        assert.equal(workerStateOf(heartbeat("a", 29_000), NOW), "busy");
        assert.equal(workerStateOf(heartbeat("a", 31_000), NOW), "lost");
        assert.equal(workerStateOf(heartbeat("a", 31_000, {intervalMs: 20_000}), NOW), "busy");
        assert.equal(workerStateOf(heartbeat("a", 16_000), NOW, 1_000), "lost");
        assert.equal(workerStateOf(heartbeat("a", 999_000, {state: "stopped"}), NOW), "stopped");
    });

    it("a lost worker reads as computing nothing now", () => {
        const status = workerStatusOf(heartbeat("a", 60_000), NOW);
        assert.deepEqual([status.state, status.tokensPerSecond, status.engineTokensPerSecond, status.os], ["lost", 0, 650, "darwin 23.5.0 arm64"]);
    });

    it("splits the merged documents by backend and chip from the provenance, warns when they mix, and says which workers refuse the run", () => {
        const machine = (backend: string, chip: string, llamaCpp = "b6080") => ({host: "h", chip, backend, nodeLlamaCpp: "3.22.1", llamaCpp});
        const provenance = new Map([
            [0, {worker: "mac-a", machine: machine("metal", "Apple M2 Ultra"), input: 0, firstDocument: 0, documents: 4}],
            [3, {worker: "mac-a", machine: machine("metal", "Apple M2 Ultra"), input: 1, firstDocument: 0, documents: 4}],
            [2, {worker: "box", machine: machine("cuda", "NVIDIA RTX 4090"), input: 0, firstDocument: 8, documents: 2}],
            // a worker before provenance, and a record naming a shard the run does not have
            [4, {worker: "old", input: 1, firstDocument: 4, documents: 2}],
            [99, {worker: "liar", machine: machine("metal", "Apple M2 Ultra"), input: 0, firstDocument: 0, documents: 1000}]
        ]);
        const refusals = new Map([["mac-c", {reason: "the run requires backend cuda; this worker computes on metal", atMs: NOW}]]);
        const status = runStatusSchema.parse(buildRunStatus(records({provenance, refusals}), new Map(), NOW));
        assert.deepEqual(status.machines, [
            {backend: "metal", chip: "Apple M2 Ultra", builds: ["3.22.1 / b6080"], documents: 8, shards: 2},
            {backend: "cuda", chip: "NVIDIA RTX 4090", builds: ["3.22.1 / b6080"], documents: 2, shards: 1},
            {backend: "unknown", chip: "unknown", builds: [], documents: 2, shards: 1}
        ]);
        assert.ok(status.problems.some((problem) => problem.startsWith("the run mixes 3 kinds of machine (metal Apple M2 Ultra: 8 documents;")), status.problems.join("\n"));
        assert.ok(status.problems.includes("worker mac-c leaves this run's shards alone: the run requires backend cuda; this worker computes on metal"));
        assert.deepEqual(status.refusals, [{worker: "mac-c", reason: "the run requires backend cuda; this worker computes on metal", at: new Date(NOW).toISOString()}]);
        // a run made before numerics were recorded: today's defaults (prefix reuse off: it evaluated every prompt in full), said so
        assert.deepEqual(status.numerics, {batchSize: 512, engineRoute: "one-pass", flashAttention: true, contextSize: 4096, prefixReuse: "off", recorded: false});

        const oneKind = runStatusSchema.parse(buildRunStatus(records({provenance: new Map([...provenance].slice(0, 2))}), new Map(), NOW));
        assert.equal(oneKind.machines?.length, 1);
        assert.ok(!oneKind.problems.some((problem) => problem.includes("mixes")), oneKind.problems.join("\n"));
        const twoBuilds = new Map([...provenance].slice(0, 1).concat([[3, {worker: "mac-b", machine: machine("metal", "Apple M2 Ultra", "b7000"), input: 1, firstDocument: 0, documents: 4}]]));
        assert.ok(runStatusSchema.parse(buildRunStatus(records({provenance: twoBuilds}), new Map(), NOW)).problems.some((problem) => problem.startsWith("the run mixes llama.cpp builds")));
    });
});
