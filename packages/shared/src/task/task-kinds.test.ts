import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ATTRIBUTE_COUNT} from "../attributes/attribute-definitions.ts";
import {runSpecSchema, shardJobSchema, shardResultSchemaOf, type RunSpec} from "../fleet/fleet-schemas.ts";
import {runTaskOf, taskKind} from "./task-kinds.ts";

const spec = {
    v: 1, runId: "run-0123abcd", specKey: "k", createdAt: "2026-01-01T00:00:00.000Z",
    model: {path: "/models/m.gguf", fingerprint: "f", sizeBytes: 1}, engine: {kind: "llama"}, queueName: "shards-f",
    inputs: [{path: "/data/a.jsonl", displayPath: "a.jsonl", sha256: "s", sizeBytes: 10, documents: 2, shards: 1, output: "/out/a.attributes.jsonl"}],
    outputDir: "/out",
    prompt: {promptText: "P", trailingInstruction: "Q", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 10},
    truncate: false, contextSize: 64, shardSize: 2, shardAttempts: 1, retryDelayMs: 0, maxPendingShards: 1
} satisfies RunSpec;

describe("task kinds", () => {
    it("a run record or a shard job without a task (made before task kinds) is a re-ask; an unknown kind does not parse", () => {
        assert.deepEqual(runTaskOf(runSpecSchema.parse(spec)), {kind: "reask", settings: {}});
        assert.deepEqual(runTaskOf(runSpecSchema.parse({...spec, task: {kind: "reask", settings: {}}})), {kind: "reask", settings: {}});
        assert.equal(runSpecSchema.safeParse({...spec, task: {kind: "poetry", settings: {}}}).success, false);
        const job = {v: 1, runId: "r-1", shard: 0, input: 0, localShard: 0, file: "a.jsonl", contextSize: 64, truncate: false, trailingInstruction: "Q",
            documents: [{id: "a", line: 1, promptText: "P", documentText: "d"}]};
        assert.equal(runTaskOf(shardJobSchema.parse(job)).kind, "reask");
    });

    it("a shard's results are checked by the run's kind: the re-ask's 32 finite float32s in [-2, 2], or a verdict", () => {
        const schema = shardResultSchemaOf(taskKind("reask"));
        const result = (documents: unknown[]) => ({v: 1, runId: "r-1", shard: 0, worker: "w", tokens: 1, elapsedMs: 1, documents});
        const attributes = (value: number) => new Array<number>(ATTRIBUTE_COUNT).fill(value);
        assert.ok(schema.safeParse(result([{id: "a", attributes: attributes(0.5)}, {id: "b", error: {code: "DOCUMENT_TOO_LONG", message: "m"}}])).success);
        for (const bad of [attributes(Number.NaN), attributes(2.5), attributes(0.1), attributes(1).slice(1), undefined])
            assert.equal(schema.safeParse(result([{id: "a", attributes: bad}])).success, false, String(bad?.[0]));
    });

    it("the re-ask's output: `<name without .jsonl>.attributes.jsonl`, lines as extract writes them", () => {
        const reask = taskKind("reask");
        assert.equal(reask.outputFileName("eval_set.jsonl"), "eval_set.attributes.jsonl");
        const document = {index: 0, lineNumber: 1, doc: {id: "a", label: 1, document: "d"}, documentText: "d", promptText: "P"};
        assert.deepEqual(JSON.parse(reask.formatOutputLine(document, {attributes: [0.5]}, spec.prompt, {})), {id: "a", label: 1, document: "d", attributes: [0.5], prompt: "P"});
    });
});
