import assert from "node:assert/strict";
import {readdir, readFile} from "node:fs/promises";
import {join} from "node:path";
import {describe, it} from "node:test";
import {runCoordinator} from "@orchard/coordinator";
import {FleetKeys, modelFingerprint, modelSourceSchema, OrchardError, type ModelSource} from "@orchard/shared";
import {fleetModel, runExtract} from "@orchard/worker";
import {Redis} from "ioredis";
import {FAST_ENGINE_FLAGS, removeTempDir, sampleInput, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";
import {waitFor} from "./support/wait-for.ts";

// one llama.cpp thread: the run's worker and this process share a 2-core machine
const ENGINE = {threads: 1, gpu: false as const, contextSize: 1024};


/** A client disconnected when its `await using` scope ends (before the Redis server declared ahead of it stops). */
function disposable(client: Redis): Redis & AsyncDisposable {
    return Object.assign(client, {[Symbol.asyncDispose]: async () => client.disconnect()});
}

/** The first `count` documents of the sample input, as a new input file. */
async function smallInput(dir: string, count: number): Promise<string> {
    const lines = (await readFile(sampleInput, "utf8")).trim().split("\n").slice(0, count);
    return writeJsonl(join(dir, "small.jsonl"), lines);
}

describe("the model comes from the fleet", () => {
    it("a worker started with --model-cache and no model downloads it from `orchard run --serve-model` and the output is byte-identical to orchard extract", async (t) => {
        // the fleet's Redis outlives the run (an embedded one stops with it, under the worker's feet)
        await using redisServer = await TestRedisServer.start();
        const dir = await tempDir("orchard-model-serve-");
        t.after(() => removeTempDir(dir));
        const model = await tinyModel();
        const input = await smallInput(dir, 6);
        const stateDir = join(dir, ".orchard");
        const cacheDir = join(dir, "cache");
        const run = OrchardProcess.start(["run", "--model", model, "--input", input, "--output-dir", join(dir, "out"), "--serve-model", "--local-workers", "0",
            "--redis", redisServer.url, "--state-dir", stateDir, "--shard-size", "2", ...FAST_ENGINE_FLAGS]);
        t.after(() => run.stop());
        await run.waitFor(/serving the model to the fleet/);
        // what the coordinator recorded for the workers, read as a worker reads it
        await using redis = disposable(new Redis(redisServer.url));
        const {fingerprint} = await modelFingerprint(model);
        const source: ModelSource = modelSourceSchema.parse(JSON.parse(await redis.get(new FleetKeys().modelSource(fingerprint)) ?? "null"));
        assert.match(source.url, /^http:\/\/127\.0\.0\.1:\d+\//, "a run whose Redis listens on loopback serves on loopback");
        const worker = OrchardProcess.start(["worker", "--model-cache", cacheDir, "--redis", redisServer.url, ...FAST_ENGINE_FLAGS, "--threads", "1"]);
        t.after(() => worker.stop());
        const ran = await run.exited;
        assert.equal(ran.code, 0, ran.stderr.slice(-3000));
        const stopped = await worker.stop();
        assert.equal(stopped.code, 0, stopped.stderr.slice(-3000));

        const reference = join(dir, "reference.jsonl");
        await runExtract({modelPath: model, inputPath: input, outputPath: reference, engine: ENGINE});
        assert.equal(await readFile(join(dir, "out", "small.jsonl.attributes.jsonl"), "utf8"), await readFile(reference, "utf8"));
        assert.deepEqual(await readdir(cacheDir), [`${fingerprint}.gguf`], "the verified model, named after its fingerprint, and no .part");
        assert.equal(await redis.get(new FleetKeys().modelSource(fingerprint)), null, "the record goes with the run");
        assert.ok((await readFile(join(cacheDir, `${fingerprint}.gguf`))).equals(await readFile(model)));
        for (const output of [ran.stdout, ran.stderr, stopped.stdout, stopped.stderr]) assert.ok(!output.includes(source.token), "the token is never printed or logged");
    });

    it("the served model's record goes with the run; a later run's worker takes the model from the cache; a model larger than memory is refused", async (t) => {
        await using redis = await TestRedisServer.start();
        await using client = disposable(new Redis(redis.url));
        const dir = await tempDir("orchard-model-serve-");
        t.after(() => removeTempDir(dir));
        const model = await tinyModel();
        const keyPrefix = "served";
        const key = new FleetKeys(keyPrefix).modelSource((await modelFingerprint(model)).fingerprint);
        const cacheDir = join(dir, "cache");
        const stop = new AbortController();
        const run = runCoordinator({
            modelPath: model, inputPaths: [await smallInput(dir, 4)], outputDir: join(dir, "out"), stateDir: join(dir, ".orchard"), redisUrl: redis.url, keyPrefix,
            localWorkers: 0, contextSize: 1024, pollIntervalMs: 50, serveModel: {host: "127.0.0.1"}, signal: stop.signal
        });
        const source = modelSourceSchema.parse(JSON.parse(await waitFor("the served model's record", async () => (await client.get(key)) ?? undefined)));
        assert.ok(await client.pttl(key) > 0, "the record expires unless its server refreshes it");
        await assert.rejects(fleetModel({redis: client, keyPrefix, cacheDir, totalMemoryBytes: source.sizeBytes - 1}),
            (error: OrchardError) => error.code === "MODEL_TOO_LARGE");
        const downloaded = await fleetModel({redis: client, keyPrefix, cacheDir});
        assert.ok((await readFile(downloaded as string)).equals(await readFile(model)));
        // the coordinator stops: its model server and record go with it; the run stays open (resumable)
        stop.abort();
        await run;
        assert.equal(await client.get(key), null);
        await assert.rejects(fetch(source.url, {headers: {authorization: `Bearer ${source.token}`}}), "the server is closed");
        // nothing serves the model any more: the cached file is all a worker can take, and it does
        assert.equal(await fleetModel({redis: client, keyPrefix, cacheDir}), downloaded);
        // a record that is not a model server's (a file:// address) is passed over: with nothing in its cache, the worker waits
        await client.set(key, JSON.stringify({...source, url: "file:///etc/passwd"}));
        assert.equal(await fleetModel({redis: client, keyPrefix, cacheDir: join(dir, "empty"), pollIntervalMs: 10, signal: AbortSignal.timeout(300)}), undefined);
        assert.deepEqual(await readdir(dir).then((names) => names.filter((name) => name === "empty")), [], "nothing written");
    });
});
