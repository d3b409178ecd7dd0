import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ATTRIBUTE_COUNT} from "../attributes/attribute-definitions.ts";
import {runSpecSchema, shardJobSchema, shardResultSchemaOf, type RunSpec} from "../fleet/fleet-schemas.ts";
import {outputNamingOf} from "./output-naming.ts";
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

    it("the re-ask's output: `<input file name>.attributes.jsonl` (`<name without .jsonl>.attributes.jsonl` for a run made before), lines as extract writes them", () => {
        const reask = taskKind("reask");
        assert.equal(reask.outputFileName("eval_set.jsonl"), "eval_set.jsonl.attributes.jsonl");
        assert.equal(reask.outputFileName("eval_set.jsonl", "input-name"), "eval_set.jsonl.attributes.jsonl");
        assert.equal(reask.outputFileName("eval_set.jsonl", "stem"), "eval_set.attributes.jsonl");
        assert.equal(outputNamingOf(spec as RunSpec), "stem", "a spec without outputNaming was made before it was recorded");
        assert.equal(outputNamingOf({...spec, outputNaming: "input-name"}), "input-name");
        const document = {index: 0, lineNumber: 1, doc: {id: "a", label: 1, document: "d"}, documentText: "d", promptText: "P"};
        assert.deepEqual(JSON.parse(reask.formatOutputLine(document, {attributes: [0.5]}, spec.prompt, {})), {id: "a", label: 1, document: "d", attributes: [0.5], prompt: "P"});
    });

    it("classify: two outputs per input, the attributes and the predictions, both named after the whole input file name", () => {
        const classify = taskKind("classify");
        assert.equal(classify.outputFileName("eval_set.jsonl"), "eval_set.jsonl.attributes.jsonl");
        assert.deepEqual((classify.companionOutputs ?? []).map((output) => output.fileName("eval_set.jsonl")), ["eval_set.jsonl.predictions.jsonl"]);
        const settings = {labelsFile: "labels.jsonl", labels: [{label: 0, name: "sad"}, {label: 2, name: "happy"}], labelPrompt: "[INST] {document} [/INST]"};
        const result = {predictedLabel: 2, predictedName: "happy", probabilities: [0.25, 0.75], attributes: new Array<number>(ATTRIBUTE_COUNT).fill(0.5)};
        assert.equal(classify.checkResult?.(result, settings), undefined);
        assert.match(classify.checkResult?.({...result, predictedLabel: 1}, settings) ?? "", /not one of the run's labels/);
        assert.match(classify.checkResult?.({...result, predictedName: "sad"}, settings) ?? "", /not one of the run's labels/);
        assert.match(classify.checkResult?.({...result, probabilities: [0.1, 0.2, 0.7]}, settings) ?? "", /3 probabilities for 2 labels/);
        // the attributes file is the re-ask's: read back with the re-ask's bound
        assert.equal(classify.maxOutputLineBytes(1000, spec.prompt, settings), taskKind("reask").maxOutputLineBytes(1000, spec.prompt, {}));
        assert.ok(runSpecSchema.safeParse({...spec, task: {kind: "classify", settings}}).success);
        assert.equal(runSpecSchema.safeParse({...spec, task: {kind: "classify", settings: {...settings, labels: [...settings.labels].reverse()}}}).success, false, "labels sorted, each once");
    });
});
