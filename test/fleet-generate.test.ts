import assert from "node:assert/strict";
import {readFile, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {generateRunTask, runCoordinator, type RunSummary} from "@orchard/coordinator";
import type {RunTask} from "@orchard/shared";
import {runGenerate, startFleetWorker} from "@orchard/worker";
import {runOrchard, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// `orchard run --task generate` on the tiny synthetic Mixtral: random weights, so only the JSON-schema
// grammar makes a completion valid JSON, and only the per-document seed (run seed + id) makes the
// output independent of the worker, the shard size and retries. One llama.cpp thread per engine:
// several engines share this 2-core machine.
const ENGINE = {threads: 1, gpu: false as const, contextSize: 1024};

const LABELS = [
    {id: "r1", label: 1, name: "positive", topic: "a heist film"},
    {id: "r2", label: 0, name: "negative", topic: "a musical"},
    {id: "r3", label: 1, name: "positive", topic: "a space opera"},
    {id: "r4", label: 0, name: "negative", topic: "a courtroom drama"},
    {id: "r5", label: 1, name: "positive", topic: "a documentary"},
    {id: "r6", label: 0, name: "negative", topic: "a western"},
    {id: "r7", label: 1, name: "positive", topic: "a thriller"}
];
const SCHEMA = {type: "object", properties: {sentiment: {enum: ["positive", "negative"]}, spoilers: {type: "boolean"}, review: {type: "string", maxLength: 24}}};
const TEMPLATE = "Write a {name} review of {topic}.";
const MAX_TOKENS = 96;
const SEED = 7;

let redis: TestRedisServer;
let model: string;
let dir: string;
let input: string;
let schema: string;
let reference: string;
let prefixes = 0;

/** A generate run in this process: `workers` in-process workers and a coordinator, then everything closed. */
async function fleetGenerate(options: {workers: number; shardSize: number; task: RunTask; inputs?: string[]}): Promise<{summary: RunSummary; outputDir: string; keyPrefix: string}> {
    const keyPrefix = `fleet-generate-${prefixes++}`;
    const outputDir = await tempDir("orchard-fleet-generate-out-");
    const workers = await Promise.all(Array.from({length: options.workers}, (_, i) =>
        startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, name: `w${i + 1}`, engine: ENGINE})));
    try {
        const summary = await runCoordinator({
            modelPath: model, inputPaths: options.inputs ?? [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl: redis.url, keyPrefix, localWorkers: 0,
            shardSize: options.shardSize, shardTaper: false, contextSize: ENGINE.contextSize, pollIntervalMs: 50, task: options.task
        });
        return {summary, outputDir, keyPrefix};
    } finally {
        await Promise.all(workers.map((worker) => worker.close()));
    }
}

const schemaTask = () => generateRunTask({template: TEMPLATE, jsonSchemaPath: schema, maxTokens: MAX_TOKENS, seed: SEED});

describe("orchard run --task generate: the fleet writes exactly what orchard generate writes", () => {
    before(async () => {
        redis = await TestRedisServer.start();
        model = await tinyModel();
        dir = await tempDir("orchard-fleet-generate-");
        input = await writeJsonl(join(dir, "labels.jsonl"), LABELS);
        schema = join(dir, "review.schema.json");
        await writeFile(schema, JSON.stringify(SCHEMA));
        const output = join(dir, "reference.jsonl");
        const summary = await runGenerate({modelPath: model, inputPath: input, outputPath: output, template: TEMPLATE, jsonSchemaPath: schema,
            maxTokens: MAX_TOKENS, seed: SEED, threads: ENGINE.threads, gpu: ENGINE.gpu, contextSize: ENGINE.contextSize});
        assert.equal(summary.failures.length, 0);
        reference = await readFile(output, "utf8");
    });
    after(async () => {
        await redis?.stop();
    });

    for (const [workers, shardSize] of [[1, 7], [2, 3], [4, 1]] as const) {
        it(`${workers} worker(s), shard size ${shardSize}: <input file name>.generated.jsonl byte-identical, schema-valid JSON on every line`, async () => {
            const {summary, outputDir} = await fleetGenerate({workers, shardSize, task: await schemaTask()});
            assert.equal(summary.status, "completed");
            const output = await readFile(join(outputDir, "labels.jsonl.generated.jsonl"), "utf8");
            assert.equal(output, reference);
            const lines = output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
            assert.deepEqual(lines.map((line) => line["id"]), LABELS.map((row) => row.id));
            for (const line of lines) {
                const json = line["json"] as Record<string, unknown>;
                assert.deepEqual(JSON.parse(line["completion"] as string), json);
                assert.ok(json["sentiment"] === "positive" || json["sentiment"] === "negative");
                assert.equal(typeof json["spoilers"], "boolean");
                assert.ok(typeof json["review"] === "string" && json["review"].length <= 24);
            }
        });
    }

    it("--max-tokens too small for the JSON to close: each such document is reported GENERATION_TRUNCATED with file:line, never written half, and counted in the status", async () => {
        const {summary, outputDir, keyPrefix} = await fleetGenerate({workers: 2, shardSize: 3, task: await generateRunTask({template: TEMPLATE, jsonSchemaPath: schema, maxTokens: 4, seed: SEED})});
        assert.equal(summary.status, "incomplete");
        assert.equal(summary.missing.length, LABELS.length);
        for (const [i, missing] of summary.missing.entries()) {
            assert.equal(missing.code, "GENERATION_TRUNCATED");
            assert.equal(missing.id, LABELS[i]?.id);
            assert.equal(missing.line, i + 1);
        }
        assert.equal(await readFile(join(outputDir, "labels.jsonl.generated.jsonl"), "utf8"), "");
        const status = await runOrchard(["status", summary.runId, "--json", "--redis", redis.url, "--redis-prefix", keyPrefix]);
        assert.equal(status.code, 0, status.stderr);
        const run = (JSON.parse(status.stdout) as {runs: {task?: string; skippedDocuments: {byCode?: Record<string, number>}}[]}).runs[0];
        assert.equal(run?.task, "generate");
        assert.deepEqual(run?.skippedDocuments.byCode, {GENERATION_TRUNCATED: LABELS.length});
        // the terminal view of the run names its task and the count
        const text = await runOrchard(["status", summary.runId, "--redis", redis.url, "--redis-prefix", keyPrefix]);
        assert.match(text.stdout, /task generate/);
        assert.match(text.stdout, new RegExp(`GENERATION_TRUNCATED ${LABELS.length}`));
    });

    it("a line the --template needs a field of is a file:line error (exit 1) before anything runs", async () => {
        const bad = await writeJsonl(join(dir, "bad.jsonl"), [{id: "a", name: "positive", topic: "x"}, {id: "b", name: "negative"}]);
        const outputDir = await tempDir("orchard-fleet-generate-out-");
        const result = await runOrchard(["run", "--task", "generate", "--model", model, "--input", bad, "--output-dir", outputDir, "--template", TEMPLATE,
            "--redis", redis.url, "--redis-prefix", `fleet-generate-${prefixes++}`, "--state-dir", join(outputDir, ".orchard"), "--local-workers", "0", "--log-format", "json"]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /bad\.jsonl:2\b.*\{topic\}/);
        assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
    });
});
