import assert from "node:assert/strict";
import {readFile, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {retryFailedRun, runCoordinator} from "@orchard/coordinator";
import {
    ATTRIBUTE_COUNT, FleetKeys, fleetStatusSchema, MAX_NAME_CHARS, MonitorKeys, runWorkerField, shardJobSchema, type RunSpec, type ShardFailure, type SkippedDocument, type WorkerHeartbeat
} from "@orchard/shared";
import {startFleetWorker} from "@orchard/worker";
import {Queue} from "bullmq";
import {Redis} from "ioredis";
import {runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {faultEngineFactory} from "./support/fault-engine.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// Issue 8, items 9-11: what a machine holding the Redis URL writes must neither reach the
// operator's terminal as escape sequences, nor crash a reader, nor loop a shard forever.

const FAST = {tokensPerSecond: 20_000};
/** What a hostile worker puts in its strings: clear screen, window title, bell, carriage return, backspace, a bidi override. */
const EVIL = "\x1b[2J\x1b[H\x1b]0;pwned\x07\r\x08\u202e";
/** Anything a terminal would act on: C0 but newline, DEL, C1, bidi overrides. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

let redis: TestRedisServer;
let client: Redis;
let model: string;
let prefixes = 0;

describe("records written by any machine with the Redis URL", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        client = new Redis(redis.url);
        model = await tinyModel();
    });
    after(async () => {
        client?.disconnect();
        await redis?.stop();
    });

    it("escape sequences in worker names, hosts, failure reasons and document ids reach no terminal; --json keeps them exact", async () => {
        const keyPrefix = `hostile-${prefixes++}`;
        const dir = await tempDir("orchard-hostile-");
        try {
            // a document id with escapes: the poisoned engine's failure reason quotes it, the run summary lists it
            const input = join(dir, "evil.jsonl");
            const lines = (await readFile(sampleInput, "utf8")).trim().split("\n");
            const evilId = `review${EVIL}-010`;
            await writeFile(input, lines.map((line, i) => (i === 9 ? JSON.stringify({...JSON.parse(line) as object, id: evilId}) : line)).join("\n") + "\n");
            const worker = await startFleetWorker({
                modelPath: model, redisUrl: redis.url, keyPrefix, name: "honest", simulatedEngine: FAST, engine: {contextSize: 1024}, createEngine: faultEngineFactory({poisonIds: [evilId]})
            });
            let run;
            try {
                run = await runOrchard(["run", "--model", model, "--input", input, "--output-dir", join(dir, "out"), "--redis", redis.url, "--redis-prefix", keyPrefix,
                    "--shard-size", "4", "--shard-attempts", "1", "--context-size", "1024", "--simulate-tokens-per-second", "20000", "--log-format", "pretty"]);
            } finally {
                await worker.close();
            }
            assert.equal(run.code, 4, run.stderr);
            const runId = (/Run (\S+) \(new\)/.exec(run.stdout) as RegExpExecArray)[1] as string;
            // the summary names the missing document, its escapes gone
            assert.match(run.stderr, /evil\.jsonl:10 review.*-010 \[ENGINE_FAILED\]/);
            assert.doesNotMatch(run.stdout, CONTROL, JSON.stringify(run.stdout));
            assert.doesNotMatch(run.stderr.replace(/\x1b\[[0-9;]*m/g, ""), CONTROL, JSON.stringify(run.stderr));

            // a hostile worker: its heartbeat, its counters in the run, and a refused document of its own making
            const monitor = new MonitorKeys(keyPrefix);
            const honest = JSON.parse(await client.get(monitor.worker("honest")) as string) as WorkerHeartbeat;
            const name = `mallory${EVIL}`;
            const [seconds] = await client.time();
            const heartbeat: WorkerHeartbeat = {...honest, name, host: `host${EVIL}`, cpu: {...honest.cpu, model: `chip${EVIL}`}, engine: {...honest.engine, backend: `gpu${EVIL}`}, atMs: Number(seconds) * 1000};
            await client.set(monitor.worker(name), JSON.stringify(heartbeat));
            await client.zadd(monitor.workers(), heartbeat.atMs, name);
            await client.hset(monitor.runWorkers(runId), runWorkerField("documents", name), 4);
            const keys = new FleetKeys(keyPrefix);
            const skipped: SkippedDocument = {id: `doc${EVIL}`, input: 0, index: 3, line: 4, code: "DOCUMENT_TOO_LONG", message: `too long${EVIL}`};
            await client.hset(keys.skipped(runId), "0:3", JSON.stringify(skipped));
            // where it says it computed shard 0 (and a record that is not one), and why it says it leaves shards alone
            const machine = {host: `host${EVIL}`, chip: `chip${EVIL}`, backend: `gpu${EVIL}`, nodeLlamaCpp: "3.22.1", llamaCpp: `b1${EVIL}`};
            await client.hset(keys.provenance(runId), "0", JSON.stringify({worker: name, machine, input: 0, firstDocument: 0, documents: 4}), "1", "{not json");
            await client.hset(keys.refusals(runId), name, JSON.stringify({reason: `no${EVIL}`, atMs: Date.now()}));

            const [text, fleetText, json] = await Promise.all([
                runOrchard(["status", runId, "--redis", redis.url, "--redis-prefix", keyPrefix]),
                runOrchard(["status", "--redis", redis.url, "--redis-prefix", keyPrefix]),
                runOrchard(["status", runId, "--json", "--redis", redis.url, "--redis-prefix", keyPrefix])
            ]);
            for (const result of [text, fleetText, json]) assert.equal(result.code, 0, result.stderr);
            assert.match(text.stdout, /mallory +host +chip +\/ gpu/);
            assert.match(text.stdout, /review.*-010/);
            assert.match(text.stdout, /doc +\[DOCUMENT_TOO_LONG\] too long/);
            assert.match(fleetText.stdout, /mallory/);
            for (const result of [text, fleetText]) assert.doesNotMatch(result.stdout, CONTROL, JSON.stringify(result.stdout));
            // JSON escapes control characters by itself: the values stay what Redis holds
            const status = fleetStatusSchema.parse(JSON.parse(json.stdout));
            assert.equal(status.runs[0]?.workers.find((row) => row.name === name)?.host, `host${EVIL}`);
            assert.ok(status.runs[0]?.failedShards[0]?.message.includes(evilId), status.runs[0]?.failedShards[0]?.message);
            assert.deepEqual(status.runs[0]?.skippedDocuments.first.map((doc) => doc.id), [`doc${EVIL}`]);
            assert.ok(status.runs[0]?.machines?.some((row) => row.chip === `chip${EVIL}` && row.shards === 1), JSON.stringify(status.runs[0]?.machines));
            assert.deepEqual(status.runs[0]?.refusals?.map((refusal) => refusal.reason), [`no${EVIL}`]);
            assert.match(text.stdout, /gpu +chip +3\.22\.1 \/ b1/);
        } finally {
            await rm(dir, {recursive: true, force: true});
        }
    });

    it("a record that fails its schema does not crash `orchard status`: a failure's `at`, a heartbeat's times, a run's spec", async () => {
        const keyPrefix = `hostile-${prefixes++}`;
        const dir = await tempDir("orchard-hostile-");
        try {
            const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "honest", simulatedEngine: FAST, engine: {contextSize: 1024}});
            const runOptions = {modelPath: model, inputPaths: [sampleInput], redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 4, contextSize: 1024, pollIntervalMs: 50, simulatedEngine: FAST};
            let first, second;
            try {
                first = await runCoordinator({...runOptions, outputDir: join(dir, "a")});
                second = await runCoordinator({...runOptions, outputDir: join(dir, "b"), name: "second"});
            } finally {
                await worker.close();
            }
            assert.deepEqual([first.status, second.status], ["completed", "completed"]);
            const keys = new FleetKeys(keyPrefix);
            const monitor = new MonitorKeys(keyPrefix);
            // a failure whose time is not a time (it used to crash the status with a RangeError), and one that is not JSON
            const failure: ShardFailure = {code: "ENGINE_FAILED", message: "boom", attempts: 1, at: "not a time"};
            await client.hset(keys.failed(first.runId), "2", JSON.stringify(failure), "3", "{not json");
            // a heartbeat whose time no Date holds (toISOString threw), and a run whose spec is not one
            const honest = JSON.parse(await client.get(monitor.worker("honest")) as string) as WorkerHeartbeat;
            await client.set(monitor.worker("forged"), JSON.stringify({...honest, name: "forged", startedAtMs: 1e300}));
            await client.zadd(monitor.workers(), Date.now(), "forged");
            await client.hset(keys.run(second.runId), "spec", JSON.stringify({...JSON.parse(await client.hget(keys.run(second.runId), "spec") as string) as RunSpec, createdAt: "yesterday"}));
            await client.hset(keys.run(first.runId), "finishedAt", "never");
            // counters of a worker whose name no heartbeat may carry
            await client.hset(monitor.runWorkers(first.runId), runWorkerField("documents", "w".repeat(MAX_NAME_CHARS + 1)), 1);

            const detail = await runOrchard(["status", first.runId, "--redis", redis.url, "--redis-prefix", keyPrefix]);
            assert.equal(detail.code, 0, detail.stderr);
            // both shards stay failed (their documents are not in the output), shown as unreadable records
            assert.match(detail.stdout, /#2 .*\[RECORD_INVALID\]/);
            assert.match(detail.stdout, /#3 .*\[RECORD_INVALID\]/);
            assert.match(detail.stderr, /RECORD_INVALID/);
            assert.doesNotMatch(detail.stderr, /unexpected error|at .*\.ts:\d+/);
            const json = await runOrchard(["status", first.runId, "--json", "--redis", redis.url, "--redis-prefix", keyPrefix]);
            assert.equal(json.code, 0, json.stderr);
            const parsed = fleetStatusSchema.parse(JSON.parse(json.stdout));
            assert.deepEqual(parsed.runs[0]?.failedShards.map((shard) => [shard.shard, shard.code]), [[2, "RECORD_INVALID"], [3, "RECORD_INVALID"]]);
            assert.equal(parsed.runs[0]?.finishedAt, null);
            assert.deepEqual(parsed.runs[0]?.workers.map((row) => row.name), ["honest"]);
            assert.equal(parsed.runs[0]?.documents.missing, 4);
            assert.ok(parsed.workers.some((row) => row.name === "honest") && !parsed.workers.some((row) => row.name === "forged"));

            // the listing shows the readable run and leaves out the other; asked for by id, the other is a clear error, not a stack
            const listing = await runOrchard(["status", "--redis", redis.url, "--redis-prefix", keyPrefix]);
            assert.equal(listing.code, 0, listing.stderr);
            assert.match(listing.stdout, new RegExp(first.runId));
            assert.doesNotMatch(listing.stdout, new RegExp(second.runId));
            const broken = await runOrchard(["status", second.runId, "--redis", redis.url, "--redis-prefix", keyPrefix]);
            assert.equal(broken.code, 2, broken.stderr);
            assert.match(broken.stderr, new RegExp(`^orchard: run ${second.runId}'s spec in Redis is invalid: createdAt: .*\\[RECORD_INVALID\\]$`, "m"));
        } finally {
            await rm(dir, {recursive: true, force: true});
        }
    });

    // the timeout only keeps a regression from hanging the suite (before the fix the run never ended)
    it("invalid results (not float32, infinite, out of [-2, 2], other documents) are failed attempts: the shards fail INVALID_RESULT, retry-failed redoes them", {timeout: 300_000}, async () => {
        const keyPrefix = `hostile-${prefixes++}`;
        const dir = await tempDir("orchard-hostile-");
        const keys = new FleetKeys(keyPrefix);
        let stop = false;
        let written = 0;
        // no worker but this one: it answers every queued shard with a result the coordinator must refuse, again whenever it is dropped
        const hostile = (async () => {
            let queue: Queue | undefined;
            const connection = client.duplicate();
            try {
                while (!stop) {
                    await new Promise((resolve) => setTimeout(resolve, 20));
                    const [runId] = await client.zrange(keys.runs(), 0, 0);
                    if (runId === undefined) continue;
                    if (queue === undefined) {
                        const spec = JSON.parse(await client.hget(keys.run(runId), "spec") as string) as RunSpec;
                        queue = new Queue(spec.queueName, {connection, prefix: keyPrefix});
                    }
                    for (const job of await queue.getJobs(["waiting", "prioritized"])) {
                        const shard = shardJobSchema.parse(job.data);
                        if (await client.hexists(keys.results(runId), String(shard.shard)) === 1) continue;
                        const value = [0.1, 2.5, -3, 0][shard.shard % 4] as number;
                        const ids = shard.documents.map((doc) => doc.id);
                        const result = {
                            v: 1, runId, shard: shard.shard, worker: "mallory", tokens: 1, elapsedMs: 1,
                            documents: (value === 0 ? ids.reverse() : ids).map((id) => ({id, attributes: new Array<number>(ATTRIBUTE_COUNT).fill(value)}))
                        };
                        // shard 1 also gets an infinite value, which JSON can carry as 1e400
                        const raw = JSON.stringify(result).replace(shard.shard === 1 ? /2\.5/ : /$^/, "1e400");
                        await client.multi().hset(keys.results(runId), String(shard.shard), raw).publish(keys.resultsChannel(runId), String(shard.shard)).exec();
                        written++;
                    }
                }
            } finally {
                await queue?.close();
                connection.disconnect();
            }
        })();
        try {
            const outputDir = join(dir, "out");
            const options = {redisUrl: redis.url, keyPrefix, localWorkers: 0, contextSize: 1024, pollIntervalMs: 50, simulatedEngine: FAST};
            let summary;
            try {
                // before the fix this never ended: each dropped result sent its shard round again
                summary = await runCoordinator({...options, modelPath: model, inputPaths: [sampleInput], outputDir, shardSize: 8, shardTaper: false, shardAttempts: 2, reconcileIntervalMs: 200});
            } finally {
                stop = true;
                await hostile;
            }
            assert.equal(summary.status, "incomplete");
            assert.equal(summary.missingDocuments, 40);
            assert.deepEqual(new Set(summary.missing.map((doc) => doc.code)), new Set(["INVALID_RESULT"]));
            assert.ok(written >= 10, `each of the 5 shards was answered twice (${written} results)`);
            assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), "");
            const failures = await client.hgetall(keys.failed(summary.runId));
            // at least the run's 2 attempts each (a result read ahead of the merge cursor may be rejected once more)
            assert.equal(Object.keys(failures).length, 5);
            for (const value of Object.values(failures)) assert.ok((JSON.parse(value) as ShardFailure).attempts >= 2, value);

            // an honest worker and retry-failed complete the file
            const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "honest", simulatedEngine: FAST, engine: {contextSize: 1024}});
            try {
                const retried = await retryFailedRun({...options, runId: summary.runId});
                assert.deepEqual([retried.status, retried.mergedDocuments], ["completed", 40]);
            } finally {
                await worker.close();
            }
            const ids = (await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id);
            assert.equal(ids.length, 40);
        } finally {
            stop = true;
            await hostile;
            await rm(dir, {recursive: true, force: true});
        }
    });
});
