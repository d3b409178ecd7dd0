import assert from "node:assert/strict";
import {after, before, describe, it} from "node:test";
import {FleetKeys, runSpecSchema, type RunSpec} from "@orchard/shared";
import {Redis} from "ioredis";
import {FAST_ENGINE_FLAGS, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

interface RunsAnswer {
    runs: {runId: string; name: string | null; status: string; createdAt: string; promptText: string; trailingInstruction: string; useJsonPrompt: boolean}[];
    reason: string | null;
}

function spec(runId: string, name: string, promptText: string, useJsonPrompt = false): RunSpec {
    return runSpecSchema.parse({
        v: 1, runId, specKey: `key-${runId}`, name, createdAt: new Date().toISOString(),
        model: {path: "/models/tiny.gguf", fingerprint: "f", sizeBytes: 1},
        engine: {kind: "simulated", tokensPerSecond: 1000}, queueName: `q-${runId}`,
        inputs: [{path: "/in.jsonl", displayPath: "in.jsonl", sha256: "0", sizeBytes: 1, documents: 1, shards: 1, output: "/out/in.jsonl"}],
        outputDir: "/out",
        prompt: {promptText, trailingInstruction: `Is ${name} right?`, useJsonPrompt, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 1000},
        truncate: false, contextSize: 512, shardSize: 10, shardAttempts: 3, retryDelayMs: 0, maxPendingShards: 4
    });
}

async function startPlayground(args: readonly string[]): Promise<{process: OrchardProcess; url: string}> {
    // no ORCHARD_REDIS_URL from the environment of the test run, and no embedded Redis in the state dir
    const child = OrchardProcess.start(["playground", "--model", await tinyModel(), "--port", "0", ...FAST_ENGINE_FLAGS, "--state-dir", "/nonexistent-orchard-state", ...args],
        {env: {ORCHARD_REDIS_URL: undefined}});
    const match = await child.waitFor(/Playground: (http:\/\/\S+?)\/(\s|$)/);
    return {process: child, url: match[1] as string};
}

async function runsOf(base: string): Promise<RunsAnswer> {
    const response = await fetch(`${base}/api/runs`);
    assert.equal(response.status, 200);
    return await response.json() as RunsAnswer;
}

describe("orchard playground: the fleet's runs as presets", () => {
    let redis: TestRedisServer;
    let client: Redis;
    const prefix = `pg-runs-${process.pid}`;
    const keys = new FleetKeys(prefix);
    before(async () => {
        redis = await TestRedisServer.start();
        client = new Redis(redis.url);
        const older = spec("run-old", "older", "Older prompt:");
        const newer = spec("run-new", "newer", "Newer prompt <b>not html</b>:");
        const json = spec("run-json", "json", "unused", true);
        await client.multi()
            .hset(keys.run(older.runId), {spec: JSON.stringify(older), status: "completed"}).zadd(keys.runs(), 1000, older.runId)
            .hset(keys.run(newer.runId), {spec: JSON.stringify(newer), status: "running"}).zadd(keys.runs(), 3000, newer.runId)
            .hset(keys.run(json.runId), {spec: JSON.stringify(json), status: "incomplete"}).zadd(keys.runs(), 2000, json.runId)
            // fails runSpecSchema: skipped
            .hset(keys.run("run-bad"), {spec: JSON.stringify({...newer, runId: "run-bad", prompt: {promptText: 7}}), status: "running"}).zadd(keys.runs(), 4000, "run-bad")
            .hset(keys.run("run-garbage"), {spec: "{not json", status: "running"}).zadd(keys.runs(), 5000, "run-garbage")
            .exec();
    });
    after(async () => {
        const found = await client?.keys(`${prefix}:*`);
        if (found !== undefined && found.length > 0) await client.del(...found);
        client?.disconnect();
        await redis?.stop();
    });

    it("lists the valid runs newest first with their prompts, and skips invalid records", {timeout: 120_000}, async () => {
        const playground = await startPlayground(["--redis", redis.url, "--redis-prefix", prefix]);
        try {
            const answer = await runsOf(playground.url);
            assert.equal(answer.reason, null);
            assert.deepEqual(answer.runs.map((run) => run.runId), ["run-new", "run-json", "run-old"]);
            const [newer, json] = answer.runs;
            assert.equal(newer?.promptText, "Newer prompt <b>not html</b>:");
            assert.equal(newer?.trailingInstruction, "Is newer right?");
            assert.equal(newer?.name, "newer");
            assert.equal(newer?.status, "running");
            assert.equal(newer?.useJsonPrompt, false);
            assert.equal(json?.useJsonPrompt, true);
        } finally {
            await playground.process.stop();
        }
    });

    it("without Redis answers no runs and the reason; an unreachable Redis does not stop the playground", {timeout: 120_000}, async () => {
        const [none, unreachable] = await Promise.all([startPlayground([]), startPlayground(["--redis", "redis://127.0.0.1:1"])]);
        try {
            const empty = await runsOf(none.url);
            assert.deepEqual(empty.runs, []);
            assert.match(empty.reason ?? "", /--redis/);
            const failing = await runsOf(unreachable.url);
            assert.deepEqual(failing.runs, []);
            assert.notEqual(failing.reason, null);
            assert.equal((await fetch(`${unreachable.url}/healthz`)).status, 200);
        } finally {
            await Promise.all([none.process.stop(), unreachable.process.stop()]);
        }
    });
});
