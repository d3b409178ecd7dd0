import assert from "node:assert/strict";
import {access, appendFile, readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {classifyRunTask, retryFailedRun, runCoordinator, type RunSummary} from "@orchard/coordinator";
import {ATTRIBUTE_COUNT, FleetKeys, type RunTask, type ShardTaper} from "@orchard/shared";
import {runClassify, startFleetWorker} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, runOrchard, sampleInput, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {faultEngineFactory} from "./support/fault-engine.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// `orchard run --task classify` on the tiny synthetic model: each document's stage 1 and stage 2 in
// one job on one worker; both outputs byte-identical to `orchard extract --task classify`.

/** One llama.cpp thread per engine: several engines share this machine (see fleet-run.test.ts). */
const ENGINE = {threads: 1, gpu: false as const, contextSize: 1024};
/** On the tiny model's random weights, each of these names is predicted for some of the sample's documents (see classify-cli.test.ts). */
const LABELS = [{label: 0, name: "sad"}, {label: 1, name: "calm"}, {label: 2, name: "happy"}];
const TRAILING = "Is the sentiment of the review {label_name} (class {label})?";

let redis: TestRedisServer;
let model: string;
let dir: string;
let labelsFile: string;
let task: RunTask;
let referenceAttributes: string;
let referencePredictions: string;
let prefixes = 0;

const linesOf = (text: string) => text.split("\n").filter((line) => line !== "");
const missing = (path: string) => access(path).then(() => false, () => true);

/** A classify fleet run in this process: `workers` in-process workers and a coordinator, then the workers closed. */
async function fleetClassify(options: {workers: number; shardSize: number; shardTaper?: ShardTaper | false; outputDir?: string; keyPrefix?: string; signal?: AbortSignal; onMerged?: (merged: number) => void}): Promise<{summary: RunSummary; outputDir: string}> {
    const keyPrefix = options.keyPrefix ?? `fleet-classify-${prefixes++}`;
    const outputDir = options.outputDir ?? await tempDir("orchard-fleet-classify-out-");
    const workers = await Promise.all(Array.from({length: options.workers}, (_, i) => startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: `w${i + 1}`, engine: ENGINE})));
    try {
        const summary = await runCoordinator({
            modelPath: model, inputPaths: [sampleInput], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            shardSize: options.shardSize, contextSize: ENGINE.contextSize, pollIntervalMs: 50, trailingInstruction: TRAILING, task,
            ...(options.shardTaper === undefined ? {} : {shardTaper: options.shardTaper}),
            ...(options.signal === undefined ? {} : {signal: options.signal}),
            onEvent: (event) => event.type === "progress" && options.onMerged?.(event.merged)
        });
        return {summary, outputDir};
    } finally {
        await Promise.all(workers.map((worker) => worker.close()));
    }
}

async function assertSameAsExtract(outputDir: string): Promise<void> {
    assert.equal(await readFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "utf8"), referenceAttributes);
    assert.equal(await readFile(join(outputDir, "sentiment.jsonl.predictions.jsonl"), "utf8"), referencePredictions);
}

describe("orchard run --task classify: the fleet writes exactly what orchard extract --task classify writes", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-fleet-classify-");
        labelsFile = await writeJsonl(join(dir, "labels.jsonl"), LABELS);
        task = await classifyRunTask({labelsPath: labelsFile});
        const output = join(dir, "reference.attributes.jsonl");
        await runClassify({modelPath: model, inputPath: sampleInput, outputPath: output, labelsPath: labelsFile, trailingInstruction: TRAILING, engine: ENGINE});
        referenceAttributes = await readFile(output, "utf8");
        referencePredictions = await readFile(join(dir, "reference.predictions.jsonl"), "utf8");
    });
    after(async () => {
        await redis?.stop();
    });

    it("1 worker, shard size 7: both files byte-identical, every prediction one of the labels", async () => {
        const {summary, outputDir} = await fleetClassify({workers: 1, shardSize: 7});
        assert.equal(summary.status, "completed");
        assert.equal(summary.mergedDocuments, 40);
        await assertSameAsExtract(outputDir);
        const predictions = linesOf(referencePredictions).map((line) => JSON.parse(line) as {predicted_label: number; predicted_name: string; probabilities: Record<string, number>});
        assert.equal(predictions.length, 40);
        for (const prediction of predictions) {
            assert.ok(LABELS.some((entry) => entry.label === prediction.predicted_label && entry.name === prediction.predicted_name), JSON.stringify(prediction));
            assert.deepEqual(Object.keys(prediction.probabilities), ["0", "1", "2"]);
        }
        // random weights: the test shows more than one label is predicted, so the label really drives the re-ask
        assert.ok(new Set(predictions.map((prediction) => prediction.predicted_label)).size > 1);
        for (const line of linesOf(referenceAttributes)) assert.equal((JSON.parse(line) as {attributes: number[]}).attributes.length, ATTRIBUTE_COUNT);
    });

    it("2 workers, shard size 3, all shards whole: both files byte-identical", async () => {
        const {summary, outputDir} = await fleetClassify({workers: 2, shardSize: 3, shardTaper: false});
        assert.equal(summary.status, "completed");
        await assertSameAsExtract(outputDir);
    });

    it("a coordinator stopped mid-run, with a crash's extra lines after the cursor in both files, resumes to the same bytes", async () => {
        const keyPrefix = `fleet-classify-${prefixes++}`;
        const outputDir = await tempDir("orchard-fleet-classify-out-");
        const stop = new AbortController();
        const first = await fleetClassify({workers: 1, shardSize: 2, shardTaper: false, keyPrefix, outputDir, signal: stop.signal, onMerged: (merged) => merged > 0 && stop.abort()});
        assert.equal(first.summary.status, "interrupted");
        assert.ok(first.summary.mergedDocuments > 0 && first.summary.mergedDocuments < 40, String(first.summary.mergedDocuments));
        // what a coordinator killed between writing a step's lines and recording its cursor leaves: a whole
        // line after the cursor in the predictions file, a torn one in the attributes file
        await appendFile(join(outputDir, "sentiment.jsonl.predictions.jsonl"), "{\"id\":\"written-after-the-cursor\",\"predicted_label\":0}\n");
        await appendFile(join(outputDir, "sentiment.jsonl.attributes.jsonl"), "{\"id\":\"torn");
        const second = await fleetClassify({workers: 1, shardSize: 2, shardTaper: false, keyPrefix, outputDir});
        assert.equal(second.summary.status, "completed");
        assert.equal(second.summary.resumed, true);
        await assertSameAsExtract(outputDir);
    });

    it("a shard failed for good leaves its documents out of both files; retry-failed patches them into both, in order", async () => {
        const keyPrefix = `fleet-classify-${prefixes++}`;
        const outputDir = await tempDir("orchard-fleet-classify-out-");
        const session = {redisUrl: redis.url, keyPrefix, stateDir: join(outputDir, ".orchard"), localWorkers: 0, pollIntervalMs: 50};
        const poisoned = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, engine: ENGINE, createEngine: faultEngineFactory({poisonIds: ["review-003"]})});
        let first: RunSummary;
        try {
            first = await runCoordinator({
                ...session, modelPath: model, inputPaths: [sampleInput], outputDir, shardSize: 4, shardTaper: false, contextSize: ENGINE.contextSize,
                shardAttempts: 1, retryDelayMs: 0, trailingInstruction: TRAILING, task
            });
        } finally {
            await poisoned.close();
        }
        assert.equal(first.status, "incomplete");
        assert.equal(first.mergedDocuments, 36);
        const ids = async (file: string) => linesOf(await readFile(join(outputDir, file), "utf8")).map((line) => (JSON.parse(line) as {id: string}).id);
        assert.deepEqual(await ids("sentiment.jsonl.predictions.jsonl"), await ids("sentiment.jsonl.attributes.jsonl"));
        assert.ok(!(await ids("sentiment.jsonl.predictions.jsonl")).includes("review-003"));
        const healthy = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, engine: ENGINE});
        try {
            const retried = await retryFailedRun({...session, runId: first.runId});
            assert.equal(retried.status, "completed");
        } finally {
            await healthy.close();
        }
        await assertSameAsExtract(outputDir);
    });

    it("a worker's result with a label outside the run's labels is refused and its shard runs again", async () => {
        const keyPrefix = `fleet-classify-${prefixes++}`;
        const outputDir = await tempDir("orchard-fleet-classify-out-");
        const small = await writeJsonl(join(dir, "small.jsonl"), [{id: "s1", label: 0, document: "Short one."}, {id: "s2", label: 1, document: "Another."}]);
        let announce: (runId: string) => void = () => undefined;
        const started = new Promise<string>((resolve) => (announce = resolve));
        const running = runCoordinator({
            modelPath: model, inputPaths: [small], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 2,
            contextSize: ENGINE.contextSize, pollIntervalMs: 50, trailingInstruction: TRAILING, task, onEvent: (event) => event.type === "started" && announce(event.runId)
        });
        const runId = await started;
        const attributes = new Array(ATTRIBUTE_COUNT).fill(0.5);
        const outsider = {predictedLabel: 7, predictedName: "angry", probabilities: [0.2, 0.3, 0.5], attributes};
        const liar = {v: 1, runId, shard: 0, worker: "liar", documents: [{id: "s1", ...outsider}, {id: "s2", ...outsider}], tokens: 1, elapsedMs: 1};
        await redis.command("HSET", new FleetKeys(keyPrefix).results(runId), "0", JSON.stringify(liar));
        const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, engine: ENGINE});
        try {
            assert.equal((await running).status, "completed");
        } finally {
            await worker.close();
        }
        const predictions = linesOf(await readFile(join(outputDir, "small.jsonl.predictions.jsonl"), "utf8")).map((line) => JSON.parse(line) as {id: string; predicted_label: number});
        assert.deepEqual(predictions.map((prediction) => prediction.id), ["s1", "s2"]);
        assert.ok(predictions.every((prediction) => LABELS.some((entry) => entry.label === prediction.predicted_label)));
        assert.equal(worker.stats.shards, 1, "the refused shard ran on the real worker");
    });

    it("CLI: a bad labels file, or a trailing instruction without the label, is refused before anything runs (exit 1, file:line)", async () => {
        const bad = await writeJsonl(join(dir, "bad-labels.jsonl"), [{label: 0, name: "sad"}, {label: 0, name: "happy"}]);
        const outputDir = join(dir, "never");
        const run = (...extra: string[]) => runOrchard(["run", "--task", "classify", "--model", model, "--input", sampleInput, "--output-dir", outputDir,
            "--redis", redis.url, "--redis-prefix", "never", ...FAST_ENGINE_FLAGS, ...extra]);
        const duplicate = await run("--labels", bad, "--trailing-instruction", TRAILING);
        assert.equal(duplicate.code, 1, duplicate.stderr);
        assert.match(duplicate.stderr, /bad-labels\.jsonl:2: .*duplicate label 0/);
        assert.doesNotMatch(duplicate.stderr, /\n\s+at .+:\d+:\d+/);
        const noLabel = await run("--labels", labelsFile, "--trailing-instruction", "Is it positive?");
        assert.equal(noLabel.code, 1, noLabel.stderr);
        assert.match(noLabel.stderr, /--trailing-instruction has no \{label_name\} or \{label\}/);
        const noLabels = await run("--trailing-instruction", TRAILING);
        assert.equal(noLabels.code, 1, noLabels.stderr);
        assert.match(noLabels.stderr, /--task classify needs --labels/);
        assert.ok(await missing(outputDir), "nothing was written");
        assert.equal(await redis.command("KEYS", "never:*"), "", "nothing was queued");
    });
});
