import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runCoordinator} from "@orchard/coordinator";
import {resolveNumericsSettings, type NumericsOptions} from "@orchard/shared";
import {numericsEngineOptions, runExtract, startFleetWorker} from "@orchard/worker";
import {removeTempDir, sampleInput, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// one llama.cpp thread per engine (the attributes do not depend on it: see fleet-run.test.ts)
const MACHINE = {threads: 1, gpu: false as const, contexts: 1};
const CONTEXT_SIZE = 1024;

let redis: TestRedisServer;
let model: string;
let dir: string;
let input: string;
let prefixes = 0;

/** What `orchard extract` writes with a run's numerics (the same resolution as the run's). */
async function extractWith(numerics: NumericsOptions): Promise<string> {
    const output = join(dir, `extract-${prefixes++}.jsonl`);
    await runExtract({modelPath: model, inputPath: input, outputPath: output, engine: {...MACHINE, ...numericsEngineOptions(resolveNumericsSettings(numerics, CONTEXT_SIZE))}});
    return readFile(output, "utf8");
}

/** A fleet run with `numerics`, computed by one worker started with `workerEngine`'s own flags. */
async function fleetRunWith(numerics: NumericsOptions, workerEngine: {batchSize: number; route: "one-pass" | "three-pass"}): Promise<string> {
    const keyPrefix = `fleet-numerics-${prefixes++}`;
    const outputDir = await tempDir("orchard-numerics-out-");
    try {
        await using worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, engine: {...MACHINE, contextSize: CONTEXT_SIZE, ...workerEngine}});
        const summary = await runCoordinator({
            modelPath: model, inputPaths: [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            shardSize: 2, contextSize: CONTEXT_SIZE, pollIntervalMs: 50, numerics
        });
        assert.equal(summary.status, "completed");
        assert.ok(worker.stats.shards > 0);
        return await readFile(join(outputDir, `${input.split("/").at(-1)}.attributes.jsonl`), "utf8");
    } finally {
        await removeTempDir(outputDir);
    }
}

describe("a run's numerics are pinned: a worker computes them, not its own flags", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-numerics-");
        // the longer reviews of the sample: prompts of more than 16 tokens, so that --batch-size 16 splits them
        const lines = (await readFile(sampleInput, "utf8")).split("\n").filter((line) => line !== "").slice(0, 4).map((line) => JSON.parse(line) as unknown);
        input = await writeJsonl(join(dir, "numerics.jsonl"), lines);
    });
    after(async () => {
        await redis?.stop();
        await removeTempDir(dir);
    });

    it("a worker started with --batch-size 512 --engine-route three-pass writes exactly what orchard extract --batch-size 16 --engine-route one-pass writes for a run with those", async () => {
        const run = {batchSize: 16, engineRoute: "one-pass"};
        const reference = await extractWith(run);
        // the premise: the worker's own flags give other bytes on this model (checked: without pinning, this test fails)
        assert.notEqual(await extractWith({batchSize: 512, engineRoute: "three-pass"}), reference, "the worker's own settings must change the bytes, or this test proves nothing");
        assert.equal(await fleetRunWith(run, {batchSize: 512, route: "three-pass"}), reference);
    });
});
