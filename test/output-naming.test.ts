import assert from "node:assert/strict";
import {access, readFile, rename, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runCoordinator, type RunSummary} from "@orchard/coordinator";
import {FleetKeys, type RunSpec} from "@orchard/shared";
import {startFleetWorker} from "@orchard/worker";
import {tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// Output names (issue 9): a new run writes `<whole input file name>.attributes.jsonl`; a run made
// before the naming was recorded in its spec keeps its `<name without .jsonl>.attributes.jsonl`
// when the same command resumes it. Simulated workers: only the names matter here.

const SIMULATED = {tokensPerSecond: 100_000};

let redis: TestRedisServer;
let model: string;
let dir: string;
let input: string;

const exists = (path: string) => access(path).then(() => true, () => false);

describe("output names", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-output-naming-");
        input = await writeJsonl(join(dir, "eval_set.jsonl"), Array.from({length: 6}, (_, i) => ({id: `d${i}`, label: i % 2, document: `document ${i}`})));
    });
    after(async () => {
        await redis?.stop();
    });

    /** The same `orchard run` command each time; with `workers` simulated workers, or none and stopped once the run exists. */
    async function run(keyPrefix: string, outputDir: string, workers: number): Promise<RunSummary> {
        const stop = new AbortController();
        const started = await Promise.all(Array.from({length: workers}, () => startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: SIMULATED})));
        try {
            return await runCoordinator({
                modelPath: model, inputPaths: [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 2,
                pollIntervalMs: 50, simulatedEngine: SIMULATED, signal: stop.signal, onEvent: (event) => workers === 0 && event.type === "started" && stop.abort()
            });
        } finally {
            await Promise.all(started.map((worker) => worker.close()));
        }
    }

    it("a new run: the whole input file name plus .attributes.jsonl", async () => {
        const outputDir = await tempDir("orchard-output-naming-out-");
        const summary = await run("naming-new", outputDir, 1);
        assert.equal(summary.status, "completed");
        assert.deepEqual(summary.outputs, [join(outputDir, "eval_set.jsonl.attributes.jsonl")]);
        assert.equal((await readFile(join(outputDir, "eval_set.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").length, 6);
        assert.equal(await exists(join(outputDir, "eval_set.attributes.jsonl")), false);
    });

    it("a run made before the naming was recorded keeps its names when the same command resumes it", async () => {
        const keyPrefix = "naming-old";
        const outputDir = await tempDir("orchard-output-naming-out-");
        const first = await run(keyPrefix, outputDir, 0);
        assert.equal(first.status, "interrupted");
        // make it a run of an Orchard before the naming: no outputNaming, outputs named without .jsonl, in Redis and in this machine's record
        const keys = new FleetKeys(keyPrefix);
        const spec = JSON.parse(await redis.command("HGET", keys.run(first.runId), "spec")) as RunSpec;
        assert.equal(spec.outputNaming, "input-name", "a new run records its naming");
        const oldOutput = join(outputDir, "eval_set.attributes.jsonl");
        const {outputNaming: _naming, ...oldSpec} = {...spec, inputs: spec.inputs.map((entry) => ({...entry, output: oldOutput}))};
        await redis.command("HSET", keys.run(first.runId), "spec", JSON.stringify(oldSpec));
        const recordPath = join(outputDir, ".orchard", "runs", `${first.runId}.json`);
        const record = JSON.parse(await readFile(recordPath, "utf8")) as {spec: RunSpec};
        await writeFile(recordPath, JSON.stringify({...record, spec: oldSpec}) + "\n");
        // the (empty) output the first session opened, under the name an old Orchard gave it
        await rename(join(outputDir, "eval_set.jsonl.attributes.jsonl"), oldOutput);

        const second = await run(keyPrefix, outputDir, 1);
        assert.equal(second.status, "completed");
        assert.equal(second.runId, first.runId, "the same run, resumed");
        assert.deepEqual(second.outputs, [oldOutput]);
        assert.equal((await readFile(oldOutput, "utf8")).trim().split("\n").length, 6);
        assert.equal(await exists(join(outputDir, "eval_set.jsonl.attributes.jsonl")), false, "nothing written under the new name");
    });
});
