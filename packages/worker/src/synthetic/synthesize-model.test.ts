import assert from "node:assert/strict";
import {createHash} from "node:crypto";
import {mkdtemp, readdir, readFile, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {GgmlType} from "@orchard/shared";
import {getLlama, readGgufFileInfo, type ControlledEvaluateInputItem, type Llama} from "node-llama-cpp";
import {MODEL_PRESETS} from "./model-presets.ts";
import {planSyntheticModel, synthesizeModel} from "./synthesize-model.ts";

const sha256 = async (path: string): Promise<string> => createHash("sha256").update(await readFile(path)).digest("hex");

describe("synthesizeModel", () => {
    let dir = "";
    let llama: Llama;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-synthesize-"));
        llama = await getLlama({gpu: false, build: "never"});
    });
    after(async () => {
        await llama?.dispose();
        await rm(dir, {recursive: true, force: true});
    });

    it("writes byte-identical files for the same seed and different ones for another seed", async () => {
        const first = await synthesizeModel({preset: "tiny", type: "f32", seed: 1, outPath: join(dir, "a.gguf")});
        const again = await synthesizeModel({preset: "tiny", type: "f32", seed: 1, outPath: join(dir, "b.gguf")});
        const other = await synthesizeModel({preset: "tiny", type: "f32", seed: 2, outPath: join(dir, "c.gguf")});
        assert.equal(first.path, join(dir, "a.gguf"));
        assert.equal(first.bytes, (await stat(first.path)).size);
        assert.ok(first.bytes > 18_000_000 && first.bytes < 20_000_000, `tiny f32 is ${first.bytes} bytes`);
        assert.equal(await sha256(first.path), await sha256(again.path));
        assert.notEqual(await sha256(first.path), await sha256(other.path));
        assert.deepEqual((await readdir(dir)).sort(), ["a.gguf", "b.gguf", "c.gguf"]); // no temporary left
    });

    it("writes the Mixtral metadata and tensor layout llama.cpp expects", async () => {
        const {path} = await synthesizeModel({preset: "tiny", type: "q8_0", seed: 1, outPath: join(dir, "q8.gguf")});
        const info = await readGgufFileInfo(path, {readTensorInfo: true, logWarnings: false});
        const metadata = info.metadata as unknown as {general: Record<string, unknown>; llama: Record<string, unknown>; tokenizer: {ggml: Record<string, unknown>}};
        assert.equal(metadata.general.architecture, "llama");
        assert.equal(metadata.general.file_type, 7);
        assert.equal(metadata.general.alignment, 32);
        assert.equal(metadata.llama.expert_count, 8);
        assert.equal(metadata.llama.expert_used_count, 2);
        assert.equal(metadata.llama.embedding_length, 64);
        assert.equal(metadata.tokenizer.ggml.model, "llama");
        assert.equal(metadata.tokenizer.ggml.bos_token_id, 1);
        const tensors = new Map(info.tensorInfo!.map((t) => [t.name, t]));
        assert.equal(tensors.size, 3 + 2 * 10);
        assert.deepEqual(tensors.get("blk.1.ffn_down_exps.weight")!.dimensions.map(Number), [128, 64, 8]);
        assert.deepEqual(tensors.get("blk.0.attn_k.weight")!.dimensions.map(Number), [64, 32]);
        assert.equal(tensors.get("blk.0.ffn_gate_exps.weight")!.ggmlType, GgmlType.Q8_0);
        assert.equal(tensors.get("output.weight")!.ggmlType, GgmlType.Q8_0);
        // norms and the router stay f32 in every type
        assert.equal(tensors.get("blk.0.ffn_gate_inp.weight")!.ggmlType, GgmlType.F32);
        assert.equal(tensors.get("output_norm.weight")!.ggmlType, GgmlType.F32);
    });

    for (const type of ["f32", "f16", "q8_0"] as const) {
        it(`${type}: loads in llama.cpp and yields finite logits with a realistic spread`, async () => {
            const {path} = await synthesizeModel({preset: "tiny", type, seed: 3, outPath: join(dir, `eval-${type}.gguf`)});
            const model = await llama.loadModel({modelPath: path});
            try {
                const context = await model.createContext({contextSize: 128, threads: 2});
                const tokens = [model.tokens.bos!, ...model.tokenize("Is the following statement true? The sky is green.\nAnswer:")];
                const results = await context.getSequence().controlledEvaluate(tokens.map((token, i): ControlledEvaluateInputItem =>
                    i >= tokens.length - 2 ? [token, {generateNext: {logits: true}}] : token));
                for (const position of [tokens.length - 2, tokens.length - 1]) {
                    const logits = [...results[position]!.next!.logits!.values()];
                    assert.equal(logits.length, 32000);
                    assert.ok(logits.every(Number.isFinite), "all logits finite");
                    const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
                    const std = Math.sqrt(logits.reduce((a, b) => a + (b - mean) ** 2, 0) / logits.length);
                    const max = Math.max(...logits);
                    assert.ok(std > 2 && std < 8, `logit std ${std}`);
                    assert.ok(max > 10 && max < 30, `max logit ${max}`);
                }
                await context.dispose();
            } finally {
                await model.dispose();
            }
        });
    }

    it("leaves nothing under the final name when synthesis fails midway", async () => {
        const outPath = join(dir, "broken", "model.gguf");
        await assert.rejects(synthesizeModel({
            preset: "tiny", type: "f32", seed: 1, outPath,
            onProgress: ({tensorsDone}) => { if (tensorsDone === 3) throw new Error("disk on fire"); }
        }), /disk on fire/);
        assert.deepEqual(await readdir(join(dir, "broken")), []);
    });

    it("rejects invalid options with INVALID_ARGUMENT", async () => {
        for (const type of ["f32", "f16"] as const)
            await assert.rejects(synthesizeModel({preset: "mixtral-8x7b", type, seed: 1, outPath: join(dir, "x.gguf")}), {code: "INVALID_ARGUMENT", message: /only be synthesized as q8_0/});
        await assert.rejects(planSyntheticModel({preset: "huge", type: "f32", seed: 1}), {code: "INVALID_ARGUMENT"});
        await assert.rejects(planSyntheticModel({preset: "tiny", type: "q4_0", seed: 1}), {code: "INVALID_ARGUMENT"});
        await assert.rejects(planSyntheticModel({preset: "tiny", type: "f32", seed: -1}), {code: "INVALID_ARGUMENT"});
        // seeds beyond u32 are fine (stored as u64)
        assert.equal((await planSyntheticModel({preset: "tiny", type: "f32", seed: 2 ** 40})).seed, 2 ** 40);
    });
});

describe("planSyntheticModel", () => {
    it("lays out mixtral-8x7b in q8_0 without generating it", async () => {
        const plan = await planSyntheticModel({preset: "mixtral-8x7b", type: "q8_0", seed: 1});
        const {embeddingLength: E, feedForwardLength: F, blockCount: L} = MODEL_PRESETS["mixtral-8x7b"];
        const V = 32000;
        const kv = 1024; // 8 of 32 heads
        const quantized = 2 * V * E + L * (2 * E * E + 2 * E * kv + 3 * E * F * 8);
        const f32 = (2 * L + 1) * E + L * E * 8;
        assert.equal(quantized + f32, 46_702_792_704); // Mixtral-8x7B's 46.7 B parameters
        assert.equal(plan.tensors.length, 3 + 10 * L);
        // q8_0 is 34 bytes per 32 values; every tensor here is already a multiple of 32 bytes
        assert.equal(plan.layout.totalBytes, plan.layout.dataOffset + (quantized / 32) * 34 + f32 * 4);
        // 49,626,318,016 before the header carried the chat template and the format version (format 2)
        assert.equal(plan.layout.totalBytes, 49_626_318_560);
        assert.ok(plan.tensors.every((t) => t.type === (t.name.endsWith("norm.weight") || t.name.endsWith("gate_inp.weight") ? GgmlType.F32 : GgmlType.Q8_0)));
    });

    it("lays out mixtral-width (Mixtral's width, 2 layers) in q8_0 in a few GB, and refuses f16/f32", async () => {
        const plan = await planSyntheticModel({preset: "mixtral-width", type: "q8_0", seed: 1});
        const {embeddingLength: E, feedForwardLength: F, blockCount: L, headCount, headCountKv} = MODEL_PRESETS["mixtral-width"];
        assert.deepEqual({E, F, L, headCount, headCountKv}, {E: 4096, F: 14336, L: 2, headCount: 32, headCountKv: 8});
        const quantized = 2 * 32000 * E + L * (2 * E * E + 2 * E * 1024 + 3 * E * F * 8);
        assert.equal(plan.tensors.length, 3 + 10 * L);
        assert.ok(plan.layout.totalBytes > (quantized / 32) * 34 && plan.layout.totalBytes < 3.6e9, `${plan.layout.totalBytes} bytes`);
        for (const type of ["f16", "f32"] as const)
            await assert.rejects(planSyntheticModel({preset: "mixtral-width", type, seed: 1}), {code: "INVALID_ARGUMENT"});
    });

    it("scales projections by 1/sqrt(fan_in) and keeps norms near 1", async () => {
        const {tensors} = await planSyntheticModel({preset: "bench", type: "f16", seed: 1});
        const byName = new Map(tensors.map((t) => [t.name, t]));
        const E = MODEL_PRESETS.bench.embeddingLength;
        const F = MODEL_PRESETS.bench.feedForwardLength;
        assert.equal(byName.get("blk.0.attn_q.weight")!.std, 1 / Math.sqrt(E));
        assert.equal(byName.get("blk.0.ffn_down_exps.weight")!.std, 1 / Math.sqrt(F));
        assert.equal(byName.get("blk.0.attn_norm.weight")!.mean, 1);
        assert.ok(byName.get("blk.0.attn_norm.weight")!.std <= 0.1);
    });
});
