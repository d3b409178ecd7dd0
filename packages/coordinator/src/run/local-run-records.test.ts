import assert from "node:assert/strict";
import {mkdtemp, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {OrchardError, type RunSpec} from "@orchard/shared";
import {LocalRunRecords} from "./local-run-records.ts";

const spec: RunSpec = {
    v: 1, runId: "run-0123abcd", specKey: "k", createdAt: "2026-01-01T00:00:00.000Z",
    model: {path: "/models/m.gguf", fingerprint: "f", sizeBytes: 1}, engine: {kind: "llama"}, queueName: "shards-f",
    inputs: [{path: "/data/a.jsonl", displayPath: "a.jsonl", sha256: "s", sizeBytes: 10, documents: 2, shards: 1, output: "/out/a.attributes.jsonl"}],
    outputDir: "/out",
    prompt: {promptText: "P", trailingInstruction: "Q", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 10},
    truncate: false, contextSize: 64, shardSize: 2, shardAttempts: 1, retryDelayMs: 0, maxPendingShards: 1
};

/** The RUN_RECORD_MISMATCH error's field, for assert.rejects. */
function refusedAt(field: string) {
    return (error: unknown) => error instanceof OrchardError && error.code === "RUN_RECORD_MISMATCH" && error.details["field"] === field;
}

describe("LocalRunRecords", () => {
    it("records a run privately and accepts only the very same spec back; names the field that differs", async () => {
        const stateDir = await mkdtemp(join(tmpdir(), "orchard-records-"));
        try {
            const records = new LocalRunRecords(stateDir);
            await assert.rejects(records.check(spec, undefined), refusedAt("record"), "no record: refused");
            await records.save(spec);
            assert.equal((await stat(records.dir)).mode & 0o777, 0o700);
            assert.equal((await stat(records.path(spec.runId))).mode & 0o777, 0o600);
            assert.equal(await records.check(spec, undefined), spec);
            const input = spec.inputs[0] as RunSpec["inputs"][number];
            await assert.rejects(records.check({...spec, inputs: [{...input, output: "/etc/passwd"}]}, undefined), refusedAt("inputs[0].output"));
            await assert.rejects(records.check({...spec, outputDir: "/elsewhere", inputs: [{...input, output: "/elsewhere/a.attributes.jsonl"}]}, undefined), refusedAt("inputs[0].output"));
            await assert.rejects(records.check({...spec, inputs: [{...input, path: "/other/a.jsonl"}]}, undefined), refusedAt("inputs[0].path"));
            await assert.rejects(records.check({...spec, shardSize: 3}, undefined), refusedAt("shardSize"));
            await assert.rejects(records.check({...spec, outputDir: "out", inputs: [{...input, output: "out/a.attributes.jsonl"}]}, undefined), refusedAt("outputDir"));
            // a damaged record is disk input too: refused, never trusted
            await writeFile(records.path(spec.runId), "{\"v\":1}");
            await assert.rejects(records.check(spec, undefined), (error: unknown) => error instanceof OrchardError && error.code === "RUN_RECORD_MISMATCH");
        } finally {
            await rm(stateDir, {recursive: true, force: true});
        }
    });

    it("takes a run over only when its outputs are the ones derived from the named folder", async () => {
        const records = new LocalRunRecords("/nonexistent-state");
        assert.equal(await records.check(spec, "/out"), spec);
        assert.equal(await records.check(spec, "/out/"), spec);
        await assert.rejects(records.check(spec, "/elsewhere"), refusedAt("outputDir"));
        const input = spec.inputs[0] as RunSpec["inputs"][number];
        await assert.rejects(records.check({...spec, inputs: [{...input, output: "/out/b.attributes.jsonl"}]}, "/out"), refusedAt("inputs[0].output"));
    });
});
