import assert from "node:assert/strict";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {getLlama, type Llama, type LlamaContext, type LlamaModel} from "node-llama-cpp";
import {synthesizeModel} from "../synthetic/synthesize-model.ts";
import {DocumentGenerator} from "./document-generator.ts";
import {resolveGenerationSampling} from "@orchard/shared";

// The per-document module the fleet's generation task will reuse, on a tiny synthetic Mixtral.
describe("DocumentGenerator", () => {
    let dir = "";
    let llama: Llama;
    let model: LlamaModel;
    let context: LlamaContext;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-generator-"));
        const {path} = await synthesizeModel({preset: "tiny", type: "q8_0", seed: 5, outPath: join(dir, "tiny.gguf")});
        llama = await getLlama({gpu: false, build: "never"});
        model = await llama.loadModel({modelPath: path});
        context = await model.createContext({contextSize: 512, threads: 1, sequences: 3});
    });
    after(async () => {
        await context?.dispose();
        await model?.dispose();
        await llama?.dispose();
        await rm(dir, {recursive: true, force: true});
    });

    it("formats <s>[INST] system\\n\\nmessage [/INST], the system text folded into the user turn", () => {
        const generator = new DocumentGenerator(context.getSequence(), {sampling: resolveGenerationSampling({})});
        const withSystem = generator.promptTokens({id: "a", message: "Write a review.", system: "Be brief."});
        const folded = generator.promptTokens({id: "a", message: "Be brief.\n\nWrite a review."});
        assert.deepEqual(withSystem, folded);
        assert.deepEqual(withSystem.slice(0, 4), [1, 733, 16289, 28793]); // BOS, "[INST]"
        assert.deepEqual(withSystem.slice(-4), model.tokenize(" [/INST]").slice(-4));
        assert.equal(generator.chatWrapper.wrapperName, "JinjaTemplate");
    });

    it("gives a document the same completion whatever was generated on the sequence before it", async () => {
        const sampling = resolveGenerationSampling({maxTokens: 12, seed: 3});
        const first = new DocumentGenerator(context.getSequence(), {sampling});
        const a = await first.generate({id: "a", message: "Write a review."});
        await first.generate({id: "b", message: "Something else entirely."});
        const again = await first.generate({id: "a", message: "Write a review."});
        assert.deepEqual(again, a);
        assert.ok(a.ok && a.finish === "length" && a.tokens.completion === 12, JSON.stringify(a));
    });

    it("parses a schema-constrained completion, and reports one cut by maxTokens instead of returning it", async () => {
        const grammar = await llama.createGrammarForJsonSchema({type: "object", properties: {sentiment: {enum: ["positive", "negative"]}, spoilers: {type: "boolean"}}});
        const sequence = context.getSequence();
        const whole = await new DocumentGenerator(sequence, {sampling: resolveGenerationSampling({maxTokens: 64, seed: 3}), grammar}).generate({id: "a", message: "Review it."});
        assert.ok(whole.ok, JSON.stringify(whole));
        assert.deepEqual(whole.json, JSON.parse(whole.completion));
        const json = whole.json as {sentiment: string; spoilers: boolean};
        assert.ok(["positive", "negative"].includes(json.sentiment) && typeof json.spoilers === "boolean");

        const cut = await new DocumentGenerator(sequence, {sampling: resolveGenerationSampling({maxTokens: 3, seed: 3}), grammar}).generate({id: "a", message: "Review it."});
        assert.equal(cut.ok, false);
        assert.ok(!cut.ok && cut.code === "GENERATION_TRUNCATED" && cut.tokens.completion === 3, JSON.stringify(cut));
    });
});
