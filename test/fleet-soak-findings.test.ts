import assert from "node:assert/strict";
import {join} from "node:path";
import {describe, it} from "node:test";
import {removeTempDir, runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";
import {WriteHoldingProxy} from "./support/write-holding-proxy.ts";

// The chaos soak's findings (bench/chaos.ts), each as the smallest fault sequence that shows it.
const LOCK_FLAGS = ["--lock-duration-ms", "2000", "--stalled-interval-ms", "1000"];
const SHARD_STARTED = /"runId":"([^"]+)"[^\n]*"msg":"shard started"/;
/** Generous: the fixed worker stops within seconds; the old one never did while Redis was stopped. */
const STOP_BOUND_MS = 120_000;

function startRun(model: string, redisUrl: string, prefix: string, outputDir: string, tokensPerSecond: number) {
    return OrchardProcess.start(["run", "--model", model, "--input", sampleInput, "--output-dir", outputDir, "--redis", redisUrl, "--redis-prefix", prefix,
        "--state-dir", join(outputDir, ".orchard"), "--shard-size", "4", "--simulate-tokens-per-second", String(tokensPerSecond), "--log-format", "json"]);
}

function startWorker(model: string, redisUrl: string, prefix: string, tokensPerSecond: number, ...extra: string[]) {
    return OrchardProcess.start(["worker", "--model", model, "--redis", redisUrl, "--redis-prefix", prefix, "--name", "w", "--concurrency", "1",
        "--simulate-tokens-per-second", String(tokensPerSecond), "--log-format", "json", ...LOCK_FLAGS, ...extra]);
}

/** `promise`, or `undefined` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
        return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
    } finally {
        clearTimeout(timer);
    }
}

describe("chaos soak findings", () => {
    it("a shard's result that reaches Redis after `orchard cancel` is not written: the cancelled run leaves no results hash", async (t) => {
        const model = await tinyModel();
        const dir = await tempDir("orchard-soak-");
        const redis = await TestRedisServer.start();
        // the worker's write of the shard's result is held on the wire until the run is cancelled
        const proxy = await WriteHoldingProxy.start(redis.port, ":results");
        const prefix = "soak-cancel";
        const worker = startWorker(model, `redis://127.0.0.1:${proxy.port}`, prefix, 2000);
        const run = startRun(model, redis.url, prefix, dir, 2000);
        t.after(async () => {
            proxy.release();
            await Promise.all([worker.stop(), run.stop()]);
            await proxy.close();
            await redis.stop();
            await removeTempDir(dir);
        });
        const [, runId] = await worker.waitFor(SHARD_STARTED);
        await within(proxy.held, 60_000);
        const cancel = await runOrchard(["cancel", runId as string, "--redis", redis.url, "--redis-prefix", prefix]);
        assert.equal(cancel.code, 0, cancel.stderr);
        assert.equal(await redis.command("HGET", `${prefix}:run:${runId}`, "status"), "cancelled");
        // the late write arrives now
        proxy.release();
        await worker.waitFor(/"msg":"shard result dropped: the run is no longer running|"msg":"shard done"/);
        assert.equal(await redis.command("EXISTS", `${prefix}:run:${runId}:results`), "0", "the cancelled run's results hash came back after cancel");
        assert.doesNotMatch(worker.stderr, /"msg":"shard done"/);
    });

    it("a worker stopped (SIGTERM) while Redis is frozen (SIGSTOP) mid-shard exits after its deadline and grace, without waiting for Redis", async (t) => {
        const model = await tinyModel();
        const dir = await tempDir("orchard-soak-");
        const redis = await TestRedisServer.start();
        const redisPid = redis.pid;
        assert.ok(redisPid !== undefined, "the test's redis-server runs here (its pid is known)");
        const prefix = "soak-frozen";
        // several seconds a shard (50 simulated tokens/s): still running when Redis is frozen, even on a busy machine
        const worker = startWorker(model, redis.url, prefix, 50, "--shutdown-timeout-ms", "500", "--shutdown-grace-ms", "1000");
        const run = startRun(model, redis.url, prefix, dir, 50);
        let frozen = false;
        t.after(async () => {
            // Redis thawed first: the processes' own stops talk to it
            if (frozen) process.kill(redisPid, "SIGCONT");
            worker.kill("SIGKILL");
            run.kill("SIGKILL");
            await Promise.all([worker.exited, run.exited]);
            await redis.stop();
            await removeTempDir(dir);
        });
        await worker.waitFor(SHARD_STARTED);
        process.kill(redisPid, "SIGSTOP");
        frozen = true;
        worker.kill("SIGTERM");
        const stopped = await within(worker.exited, STOP_BOUND_MS);
        assert.ok(stopped !== undefined, `the worker was still running ${STOP_BOUND_MS / 1000} s after SIGTERM with Redis frozen:\n${worker.stderr.slice(-3000)}`);
        assert.equal(stopped.code, 0, stopped.stderr.slice(-3000));
        assert.match(stopped.stderr, /the current shard did not end in time/);
        assert.match(stopped.stderr, /"msg":"worker stopped"/);
    });
});
