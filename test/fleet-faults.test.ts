import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runExtract} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import type {EngineFaults} from "./support/fault-engine.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// One llama.cpp thread per process (several share this 2-core machine; the attributes do not depend
// on it), short locks so that a lost worker's shard is taken over within seconds, and a delay per
// document so that each shard of 4 lasts long enough to be interrupted in the middle.
const ENGINE_FLAGS = [...FAST_ENGINE_FLAGS, "--threads", "1"];
const LOCK_FLAGS = ["--lock-duration-ms", "2000", "--stalled-interval-ms", "1000"];
const SLOW: EngineFaults = {documentDelayMs: 150};
const SHARD_STARTED = /"jobId":"([^"]+)"[^\n]*"msg":"shard started"/;
const WORKER_READY = /worker ready: waiting for shards/;

let redis: TestRedisServer;
let model: string;
let reference: string;
let prefixes = 0;

function startWorker(prefix: string, name: string, faults: EngineFaults = SLOW, ...extra: string[]) {
    return OrchardProcess.start(["worker", "--model", model, "--redis", redis.url, "--redis-prefix", prefix, "--name", name, ...ENGINE_FLAGS, ...LOCK_FLAGS,
        "--shutdown-timeout-ms", "3000", ...extra], {faults});
}

function startRun(prefix: string, outputDir: string, ...extra: string[]) {
    return OrchardProcess.start(["run", "--model", model, "--input", sampleInput, "--output-dir", outputDir, "--redis", redis.url, "--redis-prefix", prefix, "--state-dir", stateDirOf(outputDir),
        "--shard-size", "4", ...ENGINE_FLAGS, ...extra]);
}

/** The run's records go beside its outputs, in the test's own folder, not in the repository's .orchard. */
function stateDirOf(outputDir: string): string {
    return join(outputDir, ".orchard");
}

async function outputOf(outputDir: string): Promise<string> {
    return readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8").catch(() => "");
}

async function waitForLines(path: string, lines: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await readFile(path, "utf8").catch(() => "")).split("\n").length - 1 < lines) {
        if (Date.now() > deadline) throw new Error(`${path} did not reach ${lines} lines`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

describe("fleet fault tolerance: every fault ends with the identical merged file", () => {
    before(async () => {
        redis = await TestRedisServer.start({appendOnly: true});
        model = await tinyModel();
        const dir = await tempDir();
        await runExtract({modelPath: model, inputPath: sampleInput, outputPath: join(dir, "reference.jsonl"), engine: {threads: 1, gpu: false, contextSize: 1024}});
        reference = await readFile(join(dir, "reference.jsonl"), "utf8");
    });
    after(async () => {
        await redis?.stop();
    });

    it("a worker SIGKILLed mid-shard: another worker takes the shard over after the stall interval", async () => {
        const prefix = `faults-${prefixes++}`;
        const outputDir = await tempDir();
        const a = startWorker(prefix, "a");
        const b = startWorker(prefix, "b");
        try {
            // a is up before the run, so it surely takes one of the first shards
            await a.waitFor(WORKER_READY);
            const run = startRun(prefix, outputDir);
            const [, jobId] = await a.waitFor(SHARD_STARTED);
            a.kill("SIGKILL");
            const result = await run.exited;
            assert.equal(result.code, 0, result.stderr);
            assert.equal(await outputOf(outputDir), reference);
            assert.match(b.stderr, new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"shard done"`), "worker b finished the killed worker's shard");
        } finally {
            a.kill("SIGKILL");
            await b.stop();
        }
    });

    it("a worker stopped (SIGTERM) mid-shard past its shutdown deadline gives the shard back at once", async () => {
        const prefix = `faults-${prefixes++}`;
        const outputDir = await tempDir();
        const a = startWorker(prefix, "a", {documentDelayMs: 1000}, "--shutdown-timeout-ms", "300");
        const b = startWorker(prefix, "b");
        try {
            await a.waitFor(WORKER_READY);
            const run = startRun(prefix, outputDir);
            const [, jobId] = await a.waitFor(SHARD_STARTED);
            // the shard needs ~1 s more (its 2 documents of 1,000 ms side by side on 2 contexts): past the 300 ms deadline
            a.kill("SIGTERM");
            const stopped = await a.exited;
            assert.equal(stopped.code, 0, stopped.stderr);
            assert.match(stopped.stderr, /shard returned to the queue \(worker stopping\)/);
            assert.doesNotMatch(stopped.stderr, new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"shard done"`));
            // handed back (moved to wait), not left to expire: b takes it over
            await b.waitFor(new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"shard done"`));
            const result = await run.exited;
            assert.equal(result.code, 0, result.stderr);
            assert.equal(await outputOf(outputDir), reference);
        } finally {
            a.kill("SIGKILL");
            await b.stop();
        }
    });

    it("a worker frozen (SIGSTOP) past its lock, then thawed: its shard is done by another, and its late answer changes nothing", async () => {
        const prefix = `faults-${prefixes++}`;
        const outputDir = await tempDir();
        const a = startWorker(prefix, "a");
        const b = startWorker(prefix, "b");
        try {
            // a is up before the run, so it surely takes one of the first shards
            await a.waitFor(WORKER_READY);
            const run = startRun(prefix, outputDir);
            const [, jobId] = await a.waitFor(SHARD_STARTED);
            process.kill(a.pid, "SIGSTOP");
            await b.waitFor(new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"shard done"`));
            process.kill(a.pid, "SIGCONT");
            const result = await run.exited;
            assert.equal(result.code, 0, result.stderr);
            assert.equal(await outputOf(outputDir), reference);
        } finally {
            a.kill("SIGCONT");
            await Promise.all([a.stop(), b.stop()]);
        }
    });

    it("the coordinator SIGKILLed mid-run (embedded Redis, local workers): the same command resumes it", async () => {
        const cwd = await tempDir();
        const args = ["run", "--model", model, "--input", sampleInput, "--output-dir", "out", "--shard-size", "4", "--local-workers", "2", ...ENGINE_FLAGS, ...LOCK_FLAGS];
        const first = OrchardProcess.start(args, {cwd, faults: SLOW});
        await waitForLines(join(cwd, "out", "sentiment.jsonl.attributes.jsonl"), 8);
        first.kill("SIGKILL");
        await first.exited;
        const partial = (await outputOf(join(cwd, "out"))).split("\n").length - 1;
        assert.ok(partial >= 8 && partial < 40, `killed after ${partial} lines`);

        const second = await OrchardProcess.start(args, {cwd, faults: SLOW}).exited;
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /\(resumed\): \d+\/40 documents merged/);
        assert.match(second.stderr, /adopting the embedded Redis left running by a previous coordinator/);
        assert.equal(await outputOf(join(cwd, "out")), reference);
    });

    it("the embedded Redis SIGKILLed mid-run: restarted from its AOF, the run completes", async () => {
        const cwd = await tempDir();
        const run = OrchardProcess.start(["run", "--model", model, "--input", sampleInput, "--output-dir", "out", "--shard-size", "4", "--local-workers", "2",
            ...ENGINE_FLAGS, ...LOCK_FLAGS], {cwd, faults: SLOW});
        await waitForLines(join(cwd, "out", "sentiment.jsonl.attributes.jsonl"), 8);
        assert.ok((await outputOf(join(cwd, "out"))).split("\n").length - 1 < 40, "Redis must die mid-run");
        const endpoint = JSON.parse(await readFile(join(cwd, ".orchard", "redis", "endpoint.json"), "utf8")) as {pid: number};
        process.kill(endpoint.pid, "SIGKILL");
        const result = await run.exited;
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /embedded Redis exited unexpectedly; restarting it on the same port/);
        assert.equal(await outputOf(join(cwd, "out")), reference);
    });

    it("a poison document: its shard is failed after its attempts, the rest merged, the missing documents named; retry-failed completes the file", async () => {
        const prefix = `faults-${prefixes++}`;
        const outputDir = await tempDir();
        const poisoned = startWorker(prefix, "poisoned", {poisonIds: ["review-010"]});
        let result;
        try {
            result = await startRun(prefix, outputDir, "--shard-attempts", "2", "--retry-delay-ms", "100").exited;
        } finally {
            await poisoned.stop();
        }
        assert.equal(result.code, 4, result.stderr);
        const runId = (/Run (\S+) \(new\)/.exec(result.stdout) as RegExpExecArray)[1] as string;
        assert.match(result.stderr, new RegExp(`run ${runId} finished with 2 documents missing from the output:`));
        // shard size 4, tapered to 2 on a 40-document input: review-010 shares its shard with review-009 only
        for (const line of [9, 10])
            assert.match(result.stderr, new RegExp(`sentiment\\.jsonl:${line} review-0${String(line).padStart(2, "0")} \\[ENGINE_FAILED\\] the engine failed on document "review-010"`));
        assert.match(result.stderr, new RegExp(`orchard retry-failed ${runId}`));
        const expectedGap = reference.split("\n").filter((_, i) => i < 8 || i > 9).join("\n");
        assert.equal(await outputOf(outputDir), expectedGap);

        const healthy = startWorker(prefix, "healthy", {});
        try {
            const retried = await runOrchard(["retry-failed", runId, "--redis", redis.url, "--redis-prefix", prefix, "--state-dir", stateDirOf(outputDir), "--log-format", "json"]);
            assert.equal(retried.code, 0, retried.stderr);
            assert.match(retried.stdout, /Documents: 40 merged of 40/);
        } finally {
            await healthy.stop();
        }
        assert.equal(await outputOf(outputDir), reference);
    });

    it("cancel: the coordinator stops, the queued shards are removed, the command starts afresh; Ctrl-C leaves that run to orchard resume", async () => {
        const prefix = `faults-${prefixes++}`;
        const outputDir = await tempDir();
        const run = startRun(prefix, outputDir);
        const [, runId] = await run.waitFor(/Run (\S+) \(new\)/);
        const cancelled = await runOrchard(["cancel", runId as string, "--redis", redis.url, "--redis-prefix", prefix]);
        assert.equal(cancelled.code, 0, cancelled.stderr);
        assert.match(cancelled.stdout, new RegExp(`Run ${runId} cancelled \\(20 queued shards removed\\)`));
        const result = await run.exited;
        assert.equal(result.code, 1);
        assert.match(result.stderr, /was cancelled.*\[RUN_CANCELLED\]/);
        const again = startRun(prefix, outputDir, "--overwrite");
        const [, newId] = await again.waitFor(/Run (\S+) \(new\)/);
        assert.notEqual(newId, runId);
        again.kill("SIGINT");
        const interrupted = await again.exited;
        assert.equal(interrupted.code, 130, interrupted.stderr);
        assert.match(interrupted.stdout, new RegExp(`Resume with: orchard resume ${newId}`));

        const worker = startWorker(prefix, "w", {});
        try {
            const resumed = await runOrchard(["resume", newId as string, "--redis", redis.url, "--redis-prefix", prefix, "--state-dir", stateDirOf(outputDir), "--log-format", "json"]);
            assert.equal(resumed.code, 0, resumed.stderr);
            assert.match(resumed.stdout, new RegExp(`Run ${newId} \\(resumed\\)`));
        } finally {
            await worker.stop();
        }
        assert.equal(await outputOf(outputDir), reference);
    });
});
