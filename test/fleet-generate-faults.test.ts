import assert from "node:assert/strict";
import {readFile, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {runGenerate} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import type {EngineFaults} from "./support/fault-engine.ts";
import {OrchardProcess} from "./support/orchard-process.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// `orchard run --task generate` through the faults of fleet-faults.test.ts: a worker SIGKILLed mid-shard,
// the coordinator SIGKILLed mid-run and resumed by the same command. Either way the output is
// byte-identical to `orchard generate`'s: each document samples with its own seed from an empty context.
const ENGINE_FLAGS = [...FAST_ENGINE_FLAGS, "--threads", "1"];
// longer locks than fleet-faults.test.ts's: a generated document keeps a worker busier than an
// evaluated one, and a lock lost to a starved event loop on a loaded 2-core box only redoes work
const LOCK_FLAGS = ["--lock-duration-ms", "8000", "--stalled-interval-ms", "4000"];
const SLOW: EngineFaults = {documentDelayMs: 150};
const SHARD_STARTED = /"jobId":"([^"]+)"[^\n]*"msg":"shard started"/;
const WORKER_READY = /worker ready: waiting for shards/;
// the settings of fleet-generate.test.ts, where every document's JSON closes within --max-tokens
const TOPICS = ["a heist film", "a musical", "a space opera", "a courtroom drama", "a documentary", "a western", "a thriller"];
const SCHEMA = {type: "object", properties: {sentiment: {enum: ["positive", "negative"]}, spoilers: {type: "boolean"}, review: {type: "string", maxLength: 24}}};
const TEMPLATE = "Write a {name} review of {topic}.";

let redis: TestRedisServer;
let model: string;
let dir: string;
let input: string;
let schema: string;
let reference: string;
let prefixes = 0;

const generateFlags = () => ["--task", "generate", "--template", TEMPLATE, "--json-schema", schema, "--max-tokens", "96", "--seed", "7"];

async function outputOf(outputDir: string): Promise<string> {
    return readFile(join(outputDir, "reviews.jsonl.generated.jsonl"), "utf8").catch(() => "");
}

async function waitForLines(path: string, lines: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await readFile(path, "utf8").catch(() => "")).split("\n").length - 1 < lines) {
        if (Date.now() > deadline) throw new Error(`${path} did not reach ${lines} lines`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

describe("orchard run --task generate under faults: the identical file", () => {
    before(async () => {
        redis = await TestRedisServer.start({appendOnly: true});
        model = await tinyModel();
        dir = await tempDir();
        input = await writeJsonl(join(dir, "reviews.jsonl"), TOPICS.map((topic, i) => ({id: `r${i + 1}`, label: i % 2 === 0 ? 1 : 0, name: i % 2 === 0 ? "positive" : "negative", topic})));
        schema = join(dir, "review.schema.json");
        await writeFile(schema, JSON.stringify(SCHEMA));
        const output = join(dir, "reference.jsonl");
        const summary = await runGenerate({modelPath: model, inputPath: input, outputPath: output, template: TEMPLATE, jsonSchemaPath: schema, maxTokens: 96, seed: 7,
            threads: 1, gpu: false, contextSize: 1024});
        assert.equal(summary.failures.length, 0);
        reference = await readFile(output, "utf8");
    });
    after(async () => {
        await redis?.stop();
    });

    it("a worker SIGKILLed mid-shard: another worker takes the shard over, the output is orchard generate's", async () => {
        const prefix = `fleet-generate-faults-${prefixes++}`;
        const outputDir = await tempDir();
        const worker = (name: string) => OrchardProcess.start(["worker", "--model", model, "--redis", redis.url, "--redis-prefix", prefix, "--name", name, ...ENGINE_FLAGS, ...LOCK_FLAGS,
            "--shutdown-timeout-ms", "3000"], {faults: SLOW});
        const a = worker("a");
        const b = worker("b");
        try {
            await a.waitFor(WORKER_READY);
            const run = OrchardProcess.start(["run", "--model", model, "--input", input, "--output-dir", outputDir, "--redis", redis.url, "--redis-prefix", prefix,
                "--state-dir", join(outputDir, ".orchard"), "--shard-size", "2", "--local-workers", "0", ...ENGINE_FLAGS, ...generateFlags()]);
            const [, jobId] = await a.waitFor(SHARD_STARTED);
            a.kill("SIGKILL");
            const result = await run.exited;
            assert.equal(result.code, 0, result.stderr);
            assert.equal(await outputOf(outputDir), reference);
            assert.match(b.stderr, new RegExp(`"jobId":"${jobId}"[^\\n]*"msg":"shard done"`), "worker b finished the killed worker's shard");
        } finally {
            a.kill("SIGKILL");
            await b.stop();
        }
    });

    it("the coordinator SIGKILLed mid-run (embedded Redis, local workers): the same command resumes it", async () => {
        const cwd = await tempDir();
        const args = ["run", "--model", model, "--input", input, "--output-dir", "out", "--shard-size", "2", "--local-workers", "2", ...ENGINE_FLAGS, ...LOCK_FLAGS, ...generateFlags()];
        const first = OrchardProcess.start(args, {cwd, faults: SLOW});
        await waitForLines(join(cwd, "out", "reviews.jsonl.generated.jsonl"), 2);
        first.kill("SIGKILL");
        await first.exited;
        const partial = (await outputOf(join(cwd, "out"))).split("\n").length - 1;
        assert.ok(partial >= 2 && partial < TOPICS.length, `killed after ${partial} lines`);

        const second = await OrchardProcess.start(args, {cwd, faults: SLOW}).exited;
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /\(resumed\): \d+\/7 documents merged/);
        assert.equal(await outputOf(join(cwd, "out")), reference);
    });
});
