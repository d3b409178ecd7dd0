import assert from "node:assert/strict";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {getLlama, JinjaTemplateChatWrapper, LlamaChatSession, resolveChatWrapper, type Llama, type LlamaModel} from "node-llama-cpp";
import {readGgufHeader} from "@orchard/shared";
import {MIXTRAL_INSTRUCT_CHAT_TEMPLATE} from "./mixtral-chat-template.ts";
import {synthesizeModel} from "./synthesize-model.ts";

describe("synthetic models carry Mixtral-Instruct's chat template", () => {
    let dir = "";
    let llama: Llama;
    let model: LlamaModel;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-chat-template-"));
        const {path} = await synthesizeModel({preset: "tiny", type: "q8_0", seed: 3, outPath: join(dir, "tiny.gguf")});
        llama = await getLlama({gpu: false, build: "never"});
        model = await llama.loadModel({modelPath: path});
    });
    after(async () => {
        await model?.dispose();
        await llama?.dispose();
        await rm(dir, {recursive: true, force: true});
    });

    it("writes the template verbatim as tokenizer.chat_template", async () => {
        const header = await readGgufHeader(join(dir, "tiny.gguf"));
        assert.equal(header.metadata.get("tokenizer.chat_template")?.value, MIXTRAL_INSTRUCT_CHAT_TEMPLATE);
    });

    it("makes node-llama-cpp resolve the wrapper it resolves for a real Mixtral file, formatting <s>[INST] … [/INST]", async () => {
        // what a real Mixtral-8x7B-Instruct GGUF gets: the template is not equivalent to any specialized
        // wrapper (Mistral's has no spaces inside [INST]), so node-llama-cpp renders the template itself
        const wrapper = resolveChatWrapper(model);
        assert.ok(wrapper instanceof JinjaTemplateChatWrapper, `resolved ${wrapper.wrapperName}`);
        assert.equal(wrapper.template, MIXTRAL_INSTRUCT_CHAT_TEMPLATE);
        const {contextText} = wrapper.generateContextState({chatHistory: [{type: "user", text: "Hello"}, {type: "model", response: []}]});
        assert.equal(contextText.toString(), "BOS[INST] Hello [/INST]");
        // BOS, then "[INST]" as the plain pieces of Mixtral v0.1's vocabulary (it has no [INST] token)
        assert.deepEqual(contextText.tokenize(model.tokenizer).slice(0, 4), [1, 733, 16289, 28793]);

        const context = await model.createContext({contextSize: 256, threads: 1});
        try {
            const session = new LlamaChatSession({contextSequence: context.getSequence()});
            assert.equal(session.chatWrapper.wrapperName, wrapper.wrapperName);
            assert.ok(session.chatWrapper instanceof JinjaTemplateChatWrapper);
            assert.equal(session.chatWrapper.template, MIXTRAL_INSTRUCT_CHAT_TEMPLATE);
            session.dispose();
        } finally {
            await context.dispose();
        }
    });
});
