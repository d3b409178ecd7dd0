import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, it} from "node:test";
import {DashboardServer, runCoordinator, StatusCollector} from "@orchard/coordinator";
import {ShardWakeLock, startFleetWorker, type ShardEvent} from "@orchard/worker";
import {Redis} from "ioredis";
import {removeTempDir, runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";
import {waitFor} from "./support/wait-for.ts";

/** Simulated inference: ~0.1 s per shard of 4 sample reviews. */
const SIMULATED = {tokensPerSecond: 2_000};
const TOKEN = "policy-token-0123456789abcdef";


describe("spare-machine policy in the fleet worker: pause, finish the shard in hand, resume", () => {
    it("a worker started paused takes nothing and says why (status, metrics); resumed it works; paused mid-run it ends its shards first", async (t) => {
        await using redis = await TestRedisServer.start();
        const client = new Redis(redis.url);
        t.after(() => client.disconnect());
        const outputDir = await tempDir("orchard-policy-");
        t.after(() => removeTempDir(outputDir));
        const keyPrefix = "policy";
        const events: ShardEvent[] = [];
        const listeners = new Set<(event: ShardEvent) => void>();
        // the worker as on macOS: caffeinate runs while a shard does, and only then
        const caffeinate = {starts: 0, stops: 0, runningAtShardStart: [] as boolean[]};
        const wakeLock = new ShardWakeLock({
            platform: "darwin", runner: {start: () => (caffeinate.starts++, {stop: () => void caffeinate.stops++})}
        });
        const worker = await startFleetWorker({
            modelPath: await tinyModel(), redisUrl: redis.url, keyPrefix, name: "spare-mac", simulatedEngine: SIMULATED, engine: {contextSize: 1024},
            pausedReason: "outside 22:00-07:00", unloadWhenPaused: true, wakeLock,
            onShard: (event) => {
                if (event.type === "started") caffeinate.runningAtShardStart.push(caffeinate.starts === caffeinate.stops + 1);
                events.push(event);
                for (const listener of listeners) listener(event);
            }
        });
        try {
            const collector = new StatusCollector({redis: client, keyPrefix});
            const pausedRow = async (reason: string) => (await collector.fleet()).workers.find((row) => row.name === "spare-mac" && row.paused === reason);
            await waitFor("the paused heartbeat", () => pausedRow("outside 22:00-07:00"));
            {
                await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix, stateDir: join(outputDir, ".orchard"), port: 0, token: TOKEN, refreshMs: 200});
                const metrics = await (await fetch(`${dashboard.url}/metrics`, {headers: {authorization: `Bearer ${TOKEN}`}})).text();
                assert.match(metrics, /^orchard_worker_paused\{worker="spare-mac",reason="outside 22:00-07:00"\} 1$/m);
            }

            const run = runCoordinator({
                modelPath: await tinyModel(), inputPaths: [sampleInput], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix,
                localWorkers: 0, shardSize: 4, shardTaper: false, contextSize: 1024, pollIntervalMs: 50, simulatedEngine: SIMULATED
            });
            // all 10 shards queued, none taken: the paused worker fetches nothing
            await waitFor("the run's shards in the queue", async () => (await collector.fleet()).runs[0]?.queue.waiting === 10 ? true : undefined);
            assert.equal(events.length, 0);
            assert.equal(caffeinate.starts, 0, "no caffeinate while waiting or paused");

            // resumed (the model loaded again), then paused after its first shard: it finishes what it holds and takes no more
            const paused = new Promise<void>((resolve) => {
                const pauseAfterFirstShard = (event: ShardEvent) => {
                    if (event.type !== "completed") return;
                    listeners.delete(pauseAfterFirstShard);
                    resolve(worker.pause("user active"));
                };
                listeners.add(pauseAfterFirstShard);
            });
            await worker.resume();
            await paused;
            const started = events.filter((event) => event.type === "started").length;
            assert.equal(events.filter((event) => event.type === "completed" || event.type === "returned").length, started, "no shard in hand once paused");
            assert.ok(started < 10, `paused after ${started} shards`);
            await waitFor("the new reason", () => pausedRow("user active"));
            assert.equal((await collector.fleet()).runs[0]?.queue.waiting, 10 - events.filter((event) => event.type === "completed").length);
            assert.equal(events.length, 2 * started, "nothing taken while paused");
            assert.equal(caffeinate.stops, caffeinate.starts, "caffeinate stopped once the shards in hand ended");

            await worker.resume();
            const summary = await run;
            assert.equal(summary.status, "completed");
            const lines = (await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8")).trim().split("\n");
            assert.equal(lines.length, 40);
            assert.deepEqual(caffeinate.runningAtShardStart, Array.from({length: caffeinate.runningAtShardStart.length}, () => true), "caffeinate runs at every shard start");
            assert.ok(caffeinate.starts >= 1);
            assert.equal(caffeinate.stops, caffeinate.starts, "and is stopped after the last shard");
            assert.equal((await collector.fleet()).workers.find((row) => row.name === "spare-mac")?.paused, null);

            // a reason quoting a long --schedule is cut to what the heartbeat schema holds, not a heartbeat nobody can read
            await worker.pause(`outside ${"mon-fri 19:00-08:00, ".repeat(20)}`);
            await waitFor("the long reason, cut", async () => (await collector.fleet()).workers.find((row) => row.name === "spare-mac" && row.paused?.length === 200));
        } finally {
            await worker.close();
        }
    });

    it("a shard that does not end within --shutdown-timeout-ms of a pause is handed back, and another worker finishes the run", async (t) => {
        await using redis = await TestRedisServer.start();
        const outputDir = await tempDir("orchard-policy-");
        t.after(() => removeTempDir(outputDir));
        const keyPrefix = "policy-handback";
        const model = await tinyModel();
        const events: ShardEvent[] = [];
        let pausing: Promise<void> | undefined;
        // ~10 s per shard: the pause's 100 ms deadline passes long before one ends
        const slow = await startFleetWorker({
            modelPath: model, redisUrl: redis.url, keyPrefix, name: "laptop", simulatedEngine: {tokensPerSecond: 20}, engine: {contextSize: 1024},
            concurrency: 1, shutdownTimeoutMs: 100,
            onShard: (event) => {
                events.push(event);
                if (event.type === "started") pausing ??= slow.pause("on battery");
            }
        });
        try {
            const run = runCoordinator({
                modelPath: model, inputPaths: [sampleInput], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix,
                localWorkers: 0, shardSize: 4, shardTaper: false, contextSize: 1024, pollIntervalMs: 50, simulatedEngine: {tokensPerSecond: 20}
            });
            await waitFor("the first shard", async () => pausing === undefined ? undefined : true);
            await pausing;
            assert.deepEqual(events.map((event) => event.type), ["started", "returned"]);
            // the handed-back shard and all the others go to a worker that may work
            await using _desktop = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "desktop", simulatedEngine: {tokensPerSecond: 20_000}, engine: {contextSize: 1024}});
            const summary = await run;
            assert.equal(summary.status, "completed");
            assert.deepEqual(events.map((event) => event.type), ["started", "returned"], "the paused worker took nothing more");
        } finally {
            await slow.close();
        }
    });

    it("orchard worker: a policy flag this machine cannot check, or cannot read, is a one-line error naming it", async () => {
        const model = await tinyModel();
        const bad = await runOrchard(["worker", "--model", model, "--redis", "redis://127.0.0.1:1", "--schedule", "25:00-07:00"]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /^orchard: --schedule "25:00-07:00": 25:00 is not a time of day \[INVALID_ARGUMENT\]\n$/);
        if (process.platform !== "darwin") {
            const noIoreg = await runOrchard(["worker", "--model", model, "--redis", "redis://127.0.0.1:1", "--when-idle", "10m", "--log-level", "silent"]);
            assert.equal(noIoreg.code, 1);
            assert.match(noIoreg.stderr, /^orchard: --when-idle: cannot read .*ioreg.*\[INVALID_ARGUMENT\]\n$/);
        }
    });
});
