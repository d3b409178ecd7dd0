import assert from "node:assert/strict";
import {access, mkdir, readFile, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {resumeRun, runCoordinator} from "@orchard/coordinator";
import {DEFAULT_MAX_LINE_BYTES, FleetKeys, InputValidationError, runSpecSchema} from "@orchard/shared";
import {startFleetWorker} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, runOrchard, tempDir, tinyModel, writeJsonl, type CliResult} from "./support/orchard-cli.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// issue 8, items 6-8: bounded JSONL lines, strict UTF-8, and output paths that cannot be written,
// each a one-line user error (exit 1) from `extract` and `run` alike
let model: string;
let dir: string;
let redis: TestRedisServer;
let prefixes = 0;

const doc = (id: string, document = "fine") => ({id, label: 1, document});
const extract = (input: string, output: string, ...extra: string[]) =>
    runOrchard(["extract", "--model", model, "--input", input, "--output", output, ...FAST_ENGINE_FLAGS, ...extra]);
const run = (inputs: string[], outputDir: string, ...extra: string[]) =>
    runOrchard(["run", "--model", model, ...inputs.flatMap((input) => ["--input", input]), "--output-dir", outputDir,
        "--redis", redis.url, "--redis-prefix", `input-hardening-${prefixes++}`, "--state-dir", join(outputDir, "..", "state"), "--log-format", "json", ...extra]);

function assertUserError(result: CliResult, pattern: RegExp) {
    assert.equal(result.code, 1, `expected exit code 1, got ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "a user mistake must not print a stack trace");
    assert.doesNotMatch(result.stderr, /unexpected error/);
}

async function missing(path: string) {
    return access(path).then(() => false, () => true);
}

/** A JSONL line with `bytes` between its fields: `{"id":"<id>","label":1,"document":"xxx..."}`. */
function lineOfBytes(id: string, bytes: number): string {
    const line = JSON.stringify(doc(id, ""));
    return line.replace("\"document\":\"\"", `"document":"${"x".repeat(bytes - line.length)}"`);
}

describe("bounded, well-formed input lines and writable outputs", () => {
    before(async () => {
        model = await tinyModel();
        dir = await tempDir("orchard-input-hardening-");
        redis = await TestRedisServer.start();
    });
    after(async () => {
        await redis?.stop();
        await rm(dir, {recursive: true, force: true});
    });

    describe("orchard extract", () => {
        it("refuses a line a byte over --max-line-bytes, naming file, line, length and limit, and writes nothing", async () => {
            const input = await writeJsonl(join(dir, "long.jsonl"), [doc("a"), lineOfBytes("b", 201)]);
            const output = join(dir, "never-long.jsonl");
            assertUserError(await extract(input, output, "--max-line-bytes", "200"), /long\.jsonl:2: line is 201 bytes, the limit is 200\b.*\[INVALID_INPUT_LINE\]/);
            assert.ok(await missing(output));
            // the same file under a limit it fits
            const fits = join(dir, "fits.jsonl");
            const result = await extract(input, fits, "--max-line-bytes", "201");
            assert.equal(result.code, 0, result.stderr);
            assert.equal((await readFile(fits, "utf8")).trim().split("\n").length, 2);
        });

        it("refuses a line over the default 8 MiB", async () => {
            const input = await writeJsonl(join(dir, "huge.jsonl"), [doc("a"), lineOfBytes("huge", 9_000_000)]);
            const output = join(dir, "never-huge.jsonl");
            assertUserError(await extract(input, output), new RegExp(`huge\\.jsonl:2: line is 9000000 bytes, the limit is ${DEFAULT_MAX_LINE_BYTES}\\b`));
            assert.ok(await missing(output));
        });

        it("refuses a --max-line-bytes that is not a positive integer up to 256 MiB", async () => {
            for (const value of ["0", "1.5", String(256 * 1024 * 1024 + 1)])
                assertUserError(await extract(join(dir, "none.jsonl"), join(dir, "never.jsonl"), "--max-line-bytes", value), /--max-line-bytes must be an integer from 1 to 268435456.*\[INVALID_ARGUMENT\]/);
        });

        it("refuses invalid UTF-8 naming file, line and byte, where it used to merge two ids into one duplicate", async () => {
            const line = (byte: number) => Buffer.concat([Buffer.from("{\"id\":\"x"), Buffer.from([byte]), Buffer.from("\",\"label\":1,\"document\":\"d\"}\n")]);
            const input = join(dir, "latin1.jsonl");
            await writeFile(input, Buffer.concat([line(0xe9), line(0xe8)]));
            const output = join(dir, "never-latin1.jsonl");
            const result = await extract(input, output);
            assertUserError(result, /latin1\.jsonl:1: not valid UTF-8 at byte 8 of the line \(byte 8 of the file\)/);
            assert.match(result.stderr, new RegExp(`latin1\\.jsonl:2: not valid UTF-8 at byte 8 of the line \\(byte ${line(0).length + 8} of the file\\)`));
            assert.doesNotMatch(result.stderr, /duplicate id/);
            assert.ok(await missing(output));
        });

        it("accepts a file that starts with a UTF-8 BOM", async () => {
            const input = join(dir, "bom.jsonl");
            await writeFile(input, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${JSON.stringify(doc("first"))}\n${JSON.stringify(doc("second"))}\n`)]));
            const output = join(dir, "bom-out.jsonl");
            const result = await extract(input, output);
            assert.equal(result.code, 0, result.stderr);
            const ids = (await readFile(output, "utf8")).trim().split("\n").map((text) => (JSON.parse(text) as {id: string}).id);
            assert.deepEqual(ids, ["first", "second"]);
        });

        it("--output that is a folder, or lies under a file: a one-line error, exit 1", async () => {
            const input = await writeJsonl(join(dir, "ok.jsonl"), [doc("a")]);
            const folder = join(dir, "a-folder.jsonl");
            await mkdir(folder);
            assertUserError(await extract(input, folder), /--output .*a-folder\.jsonl: is a folder, not a file.*\[OUTPUT_NOT_WRITABLE\]/);
            const file = join(dir, "a-file");
            await writeFile(file, "not a folder");
            assertUserError(await extract(input, join(file, "out.jsonl")), /--output .*a-file.*: .*\[OUTPUT_NOT_WRITABLE\]/);
            assert.equal(await readFile(file, "utf8"), "not a folder");
        });
    });

    describe("orchard run", () => {
        it("refuses a line over --max-line-bytes before anything is queued or written", async () => {
            const input = await writeJsonl(join(dir, "run-long.jsonl"), [doc("a"), lineOfBytes("b", 301), doc("c")]);
            const outputDir = join(dir, "never-run-long");
            assertUserError(await run([input], outputDir, "--max-line-bytes", "300"), /run-long\.jsonl:2: line is 301 bytes, the limit is 300\b/);
            assert.ok(await missing(outputDir));
        });

        it("--output-dir or --state-dir that is a file, or an output that is a folder: a one-line error, exit 1, nothing touched", async () => {
            const input = await writeJsonl(join(dir, "run-ok.jsonl"), [doc("a")]);
            const file = join(dir, "out-file");
            await writeFile(file, "keep me");
            assertUserError(await run([input], file), /--output-dir .*out-file: exists and is not a folder.*\[OUTPUT_NOT_WRITABLE\]/);
            assertUserError(await run([input], join(file, "below")), /--output-dir .*out-file.*: .*\[OUTPUT_NOT_WRITABLE\]/);
            assert.equal(await readFile(file, "utf8"), "keep me");
            const outputDir = join(dir, "out-with-folder");
            await mkdir(join(outputDir, "run-ok.jsonl.attributes.jsonl"), {recursive: true});
            assertUserError(await run([input], outputDir), /--output-dir .*run-ok\.jsonl\.attributes\.jsonl: is a folder, not a file.*\[OUTPUT_NOT_WRITABLE\]/);
            // the embedded Redis's --state-dir, a file too
            const embedded = ["run", "--model", model, "--input", input, "--output-dir", join(dir, "never-state"), "--state-dir", file, "--log-format", "json"];
            assertUserError(await runOrchard(embedded), /--state-dir .*out-file: exists and is not a folder.*\[OUTPUT_NOT_WRITABLE\]/);
            assert.equal(await readFile(file, "utf8"), "keep me");
        });

        it("a run validated with a raised limit records it and reads its shards and a resume with it; the same command finds it complete", async () => {
            const keyPrefix = `input-hardening-${prefixes++}`;
            const input = await writeJsonl(join(dir, "run-huge.jsonl"), [doc("a"), lineOfBytes("huge", 9_000_000), doc("c")]);
            const outputDir = join(dir, "run-huge-out");
            const worker = await startFleetWorker({modelPath: model, redisUrl: redis.url, keyPrefix, simulatedEngine: {tokensPerSecond: 1_000_000}});
            const options = {
                modelPath: model, inputPaths: [input], outputDir, redisUrl: redis.url, keyPrefix, localWorkers: 0, shardSize: 1, shardTaper: false as const,
                pollIntervalMs: 50, simulatedEngine: {tokensPerSecond: 1_000_000}, maxLineBytes: 16 * 1024 * 1024, stateDir: join(dir, "run-huge-state")
            };
            try {
                const summary = await runCoordinator(options);
                assert.equal(summary.status, "completed");
                assert.equal(summary.mergedDocuments, 3);
                const runKey = new FleetKeys(keyPrefix).run(summary.runId);
                const spec = runSpecSchema.parse(JSON.parse(await redis.command("HGET", runKey, "spec")));
                assert.equal(spec.maxLineBytes, 16 * 1024 * 1024);
                const again = await runCoordinator(options);
                assert.equal(again.alreadyComplete, true);
                // orchard resume re-reads the inputs with the run's limit, not the default one
                const session = {runId: summary.runId, redisUrl: redis.url, keyPrefix, localWorkers: 0, pollIntervalMs: 50, stateDir: options.stateDir};
                await redis.command("HSET", runKey, "status", "running");
                const resumed = await resumeRun(session);
                assert.equal(resumed.status, "completed");
                assert.equal(resumed.mergedDocuments, 3);
                // a run recorded before the limit existed (by an older Orchard: no local record, so taken over
                // with --output-dir) resumes with the default one, which this input exceeds
                const {maxLineBytes: _limit, ...older} = spec;
                await redis.command("HSET", runKey, "status", "running", "spec", JSON.stringify(older));
                await assert.rejects(resumeRun({...session, outputDir}), (error: unknown) => error instanceof InputValidationError &&
                    new RegExp(`run-huge\\.jsonl:2: line is 9000000 bytes, the limit is ${DEFAULT_MAX_LINE_BYTES}\\b`).test(error.message));
            } finally {
                await worker.close();
            }
            const ids = (await readFile(join(outputDir, "run-huge.jsonl.attributes.jsonl"), "utf8")).trim().split("\n").map((text) => (JSON.parse(text) as {id: string}).id);
            assert.deepEqual(ids, ["a", "huge", "c"]);
        });
    });
});
