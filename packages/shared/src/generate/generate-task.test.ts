import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {runSpecSchema, shardResultSchemaOf} from "../fleet/fleet-schemas.ts";
import {inputLineReaderOf, taskKind} from "../task/task-kinds.ts";
import {formatGenerateOutputLine} from "./generate-output-line.ts";
import {DEFAULT_GENERATION_SAMPLING} from "./generation-settings.ts";
import type {GenerateSettings} from "./generate-task.ts";

const settings: GenerateSettings = {
    message: {kind: "template", template: "Review {topic}."}, system: "", sampling: {...DEFAULT_GENERATION_SAMPLING, maxTokens: 16},
    jsonSchema: {type: "object", properties: {label: {type: "integer"}}}, output: {format: "generated"}
};
const prompt = {promptText: "", trailingInstruction: "", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 10};
const fields = {id: "a", topic: "a western", extra: [1, 2]};
const document = {index: 0, lineNumber: 3, doc: {id: "a", label: 0, document: "Review a western."}, documentText: "Review a western.", promptText: "", fields};
const result = {completion: "{\"label\": 1}", json: {label: 1}, finish: "stop" as const, tokens: {prompt: 9, completion: 5}};

describe("the generate task kind", () => {
    it("writes <whole input file name>.generated.jsonl, each line exactly orchard generate's (one implementation)", () => {
        const kind = taskKind("generate");
        assert.equal(kind.outputFileName("eval_set.jsonl"), "eval_set.jsonl.generated.jsonl");
        // named by the run's naming, as every kind: new runs' is the whole input name
        assert.equal(kind.outputFileName("eval_set.jsonl", "input-name"), "eval_set.jsonl.generated.jsonl");
        assert.equal(kind.outputFileName("eval_set.jsonl", "stem"), "eval_set.generated.jsonl");
        const line = kind.formatOutputLine(document, result, prompt, settings);
        assert.equal(line, formatGenerateOutputLine({format: "generated"}, true, {id: "a", fields}, result));
        assert.deepEqual(Object.keys(JSON.parse(line)), ["id", "topic", "extra", "completion", "json", "finish", "tokens"]);
        const reexpress: GenerateSettings = {...settings, output: {format: "reexpress", document: {kind: "completion"}, label: {kind: "json", field: "label"}}};
        assert.deepEqual(JSON.parse(kind.formatOutputLine(document, result, prompt, reexpress)), {id: "a", label: 1, document: "{\"label\": 1}"});
    });

    it("reads an input line into its message, or says which field the template lacks; --label-from an input field must be an integer", () => {
        const read = inputLineReaderOf({kind: "generate", settings});
        assert.deepEqual(read?.(fields), {message: "Review a western."});
        assert.deepEqual(read?.({id: "b"}), {problem: "--template uses {topic} but the line has no field \"topic\""});
        assert.match(JSON.stringify(read?.({id: "c", topic: "x", completion: "y"})), /field \\"completion\\" is one orchard generate writes/);
        const labelled = inputLineReaderOf({kind: "generate", settings: {...settings, output: {format: "reexpress", document: {kind: "completion"}, label: {kind: "input", field: "label"}}}});
        assert.deepEqual(labelled?.({id: "d", topic: "x", label: 2}), {message: "Review x."});
        assert.ok("problem" in (labelled?.({id: "d", topic: "x", label: "two"}) ?? {}));
        assert.equal(inputLineReaderOf({kind: "reask", settings: {}}), undefined);
    });

    it("a run spec carries the settings (schema-checked); a shard's results are completions or verdicts", () => {
        const spec = {
            v: 1, runId: "run-1", specKey: "k", createdAt: "2026-01-01T00:00:00.000Z", model: {path: "/m.gguf", fingerprint: "f", sizeBytes: 1}, engine: {kind: "llama"},
            queueName: "q", inputs: [{path: "/a.jsonl", displayPath: "a.jsonl", sha256: "s", sizeBytes: 1, documents: 1, shards: 1, output: "/o/a.jsonl.generated.jsonl"}],
            outputDir: "/o", prompt, truncate: false, contextSize: 64, shardSize: 1, shardAttempts: 1, retryDelayMs: 0, maxPendingShards: 1
        };
        assert.ok(runSpecSchema.safeParse({...spec, task: {kind: "generate", settings}}).success);
        assert.equal(runSpecSchema.safeParse({...spec, task: {kind: "generate", settings: {...settings, sampling: {...settings.sampling, maxTokens: 0}}}}).success, false);
        const schema = shardResultSchemaOf(taskKind("generate"));
        const shard = (documents: unknown[]) => ({v: 1, runId: "r-1", shard: 0, worker: "w", tokens: 1, elapsedMs: 1, documents});
        assert.ok(schema.safeParse(shard([{id: "a", ...result}, {id: "b", error: {code: "GENERATION_TRUNCATED", message: "m"}}])).success);
        assert.equal(schema.safeParse(shard([{id: "a", ...result, finish: "abort"}])).success, false);
        assert.equal(schema.safeParse(shard([{id: "a", completion: 3}])).success, false);
    });

    it("reads outputs back with a bound that covers --max-tokens of completion twice (text and parsed copy)", () => {
        const bound = taskKind("generate").maxOutputLineBytes(1000, prompt, {...settings, sampling: {...settings.sampling, maxTokens: 512}});
        assert.ok(bound >= 1000 + 2 * 512 * 16 * 6);
    });
});
