import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {Writable} from "node:stream";
import {after, before, describe, it} from "node:test";
import {runCoordinator, StatusCollector, writeRunProvenance} from "@orchard/coordinator";
import {connectRedis, FleetKeys, resolveNumericsSettings, runSpecSchema, type NumericsOptions} from "@orchard/shared";
import {numericsEngineOptions, runExtract, startFleetWorker, verifyRun} from "@orchard/worker";
import {removeTempDir, sampleInput, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// one llama.cpp thread per engine (the attributes do not depend on it: see fleet-run.test.ts)
const MACHINE = {threads: 1, gpu: false as const, contexts: 1};
const CONTEXT_SIZE = 1024;

let redis: TestRedisServer;
let model: string;
let dir: string;
let input: string;

/** What `orchard extract` writes with a run's numerics (resolved as the run resolves them). */
async function extractWith(numerics: NumericsOptions, name: string): Promise<string> {
    const output = join(dir, `${name}.jsonl`);
    await runExtract({modelPath: model, inputPath: input, outputPath: output, engine: {...MACHINE, ...numericsEngineOptions(resolveNumericsSettings(numerics, CONTEXT_SIZE))}});
    return readFile(output, "utf8");
}

describe("a run's numerics are pinned, and each document's machine recorded", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-numerics-");
        // prompts of more than 16 tokens, so that --batch-size 16 splits them
        const lines = (await readFile(sampleInput, "utf8")).split("\n").filter((line) => line !== "").slice(0, 4).map((line) => JSON.parse(line) as unknown);
        input = await writeJsonl(join(dir, "numerics.jsonl"), lines);
    });
    after(async () => {
        await redis?.stop();
        await removeTempDir(dir);
    });

    it("a worker started with --batch-size 512 --engine-route three-pass --prefix-reuse off writes what orchard extract --batch-size 16 --engine-route one-pass writes for a run with those; provenance, status and verify say so", async () => {
        const numerics = {batchSize: 16, engineRoute: "one-pass"};
        const reference = await extractWith(numerics, "reference");
        // the premise: the worker's own flags give other bytes on this model (checked: with the worker ignoring the run's numerics, this test fails)
        assert.notEqual(await extractWith({batchSize: 512, engineRoute: "three-pass"}, "worker-own"), reference, "the worker's own settings must change the bytes, or this test proves nothing");

        const keyPrefix = "fleet-numerics";
        const outputDir = join(dir, "out");
        let runId: string;
        {
            await using worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: "w-own-flags", engine: {...MACHINE, contextSize: CONTEXT_SIZE, batchSize: 512, route: "three-pass", prefixReuse: "off"}});
            const summary = await runCoordinator({
                modelPath: model, inputPaths: [input], outputDir, stateDir: join(dir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
                shardSize: 2, contextSize: CONTEXT_SIZE, pollIntervalMs: 50, numerics
            });
            assert.equal(summary.status, "completed");
            assert.equal(worker.stats.documents, 4);
            runId = summary.runId;
        }
        assert.equal(await readFile(join(outputDir, "numerics.jsonl.attributes.jsonl"), "utf8"), reference);

        // provenance: every document names the worker and this machine's backend
        const lines: string[] = [];
        const sink = new Writable({write: (chunk: Buffer, _encoding, done) => (lines.push(...chunk.toString().split("\n").filter((line) => line !== "")), done())});
        const client = await connectRedis(redis.url, {name: "numerics-test"});
        try {
            assert.equal(await writeRunProvenance({redis: client, keyPrefix, runId, output: sink}), 4);
            const rows = lines.map((line) => JSON.parse(line) as {id: string; index: number; worker: string; backend: string; chip: string; llamaCpp: string});
            assert.deepEqual(rows.map((row) => [row.id, row.index, row.worker, row.backend]), [0, 1, 2, 3].map((i) => [`review-00${i + 1}`, i, "w-own-flags", "cpu"]));
            assert.ok(rows.every((row) => row.chip.length > 0 && row.llamaCpp.length > 0));

            // status: the pinned numerics and one kind of machine
            const collector = new StatusCollector({redis: client, keyPrefix});
            const status = await collector.run(runId);
            await collector.close();
            assert.deepEqual(status.numerics, {batchSize: 16, engineRoute: "one-pass", flashAttention: true, contextSize: CONTEXT_SIZE, prefixReuse: "auto", recorded: true});
            assert.deepEqual(status.machines?.map((machine) => [machine.backend, machine.documents, machine.shards]), [["cpu", 4, 2]]);

            // verify on the same machine with the run's numerics: every sampled document bit for bit
            const same = await verifyRun({redisUrl: redis.url, keyPrefix, runId, sample: 3, engine: MACHINE});
            assert.equal(same.sampled, 3);
            assert.deepEqual(same.groups.map((group) => [group.backend, group.documents, group.identical, group.maxDifference]), [["cpu", 3, 3, 0]]);

            // results computed with other settings than the run claims (its record says batch 512): verify finds the difference
            const stored = runSpecSchema.parse(JSON.parse(await client.hget(new FleetKeys(keyPrefix).run(runId), "spec") as string));
            await client.hset(new FleetKeys(keyPrefix).run(runId), "spec", JSON.stringify({...stored, numerics: {...stored.numerics, batchSize: 512}}));
            const other = await verifyRun({redisUrl: redis.url, keyPrefix, runId, sample: 4, engine: MACHINE});
            assert.equal(other.numerics.batchSize, 512);
            const group = other.groups[0];
            assert.ok(group !== undefined && group.documents === 4 && group.maxDifference > 0 && group.identical < 4, JSON.stringify(other.groups));
        } finally {
            await client.quit();
        }
    });
});
