import {randomBytes} from "node:crypto";
import {mkdir, rename, rm} from "node:fs/promises";
import {dirname, resolve} from "node:path";
import {
    GgmlType,
    ggufArray,
    ggufBool,
    ggufFloat32,
    ggufString,
    ggufUint32,
    GgufValueType,
    OrchardError,
    planGguf,
    writeGguf,
    type GgufMetadataValue,
    type GgufPlan,
    type GgufTensorSource
} from "@orchard/shared";
import {
    MISTRAL_BOS_TOKEN_ID,
    MISTRAL_EOS_TOKEN_ID,
    MISTRAL_UNK_TOKEN_ID,
    MISTRAL_VOCABULARY_SIZE,
    loadMistralVocabulary,
    type MistralVocabulary
} from "./mistral-vocabulary.ts";
import {MIXTRAL_INSTRUCT_CHAT_TEMPLATE} from "./mixtral-chat-template.ts";
import {ggmlTypeOf, llamaFileTypeOf, resolveModelPreset, type ModelPreset, type ModelPresetName, type ModelWeightType} from "./model-presets.ts";
import {SeededRandom} from "./seeded-random.ts";

/**
 * Synthetic Mixtral-architecture GGUF models: the real Mixtral v0.1 vocabulary and tensor layout
 * with seeded random weights, so the whole extraction pipeline runs end to end on any machine.
 *
 * Weight scales keep every layer's activations healthy: RMS norms near 1, projections
 * N(0, 1/sqrt(fan_in)) so each attention and expert output has about unit variance whatever E and F
 * are, and the residual stream grows only like sqrt(layers) before the final norm. The LM head is
 * scaled so that logits are ~N(0, LOGIT_STD²): a max over 32000 of about 4 * LOGIT_STD.
 */

export interface SynthesizeModelOptions {
    readonly preset: ModelPresetName;
    readonly type: ModelWeightType;
    readonly seed: number;
    readonly outPath: string;
    /** Called after each tensor is written, e.g. for a progress bar on the 50 GB preset. */
    readonly onProgress?: (progress: {readonly tensorsDone: number; readonly tensorCount: number; readonly bytesDone: number; readonly totalBytes: number}) => void;
}

export interface SyntheticTensor extends GgufTensorSource {
    /** Values are mean + std * N(0, 1), from the tensor's own seeded stream. */
    readonly mean: number;
    readonly std: number;
}

export interface SyntheticModelPlan {
    readonly preset: ModelPreset;
    readonly type: ModelWeightType;
    readonly seed: number;
    readonly metadata: ReadonlyMap<string, GgufMetadataValue>;
    readonly tensors: readonly SyntheticTensor[];
    /** Offsets and total file size, computed without generating any weight. */
    readonly layout: GgufPlan;
}

/**
 * Version of what synthesis writes for given options: 1 had no chat template (files without the
 * key), 2 carries Mixtral-Instruct's. ensureSyntheticModel replaces a cached file of another version.
 */
export const SYNTHETIC_MODEL_FORMAT = 2;

/** Standard deviation of the output logits (realistic spread: max logit ~15 over 32000 tokens). */
export const LOGIT_STD = 4;
/** Standard deviation of the noise around 1 in RMS-norm weights. */
const NORM_NOISE_STD = 0.05;
/** Values generated per chunk: 4 MiB of f32, independent of tensor size. */
const CHUNK_VALUES = 1 << 20;

/** Metadata, tensors and layout of a synthetic model; validates preset, type and seed. */
export async function planSyntheticModel(options: {readonly preset: string; readonly type: string; readonly seed: number}): Promise<SyntheticModelPlan> {
    const preset = resolveModelPreset(options.preset, options.type);
    const type = options.type as ModelWeightType;
    if (!Number.isSafeInteger(options.seed) || options.seed < 0)
        throw new OrchardError("INVALID_ARGUMENT", `seed must be a non-negative integer, got ${options.seed}`);
    const vocabulary = await loadMistralVocabulary();
    const metadata = syntheticModelMetadata(preset, type, options.seed, vocabulary);
    const tensors = syntheticModelTensors(preset, type, options.seed);
    return {preset, type, seed: options.seed, metadata, tensors, layout: planGguf({metadata, tensors})};
}

/**
 * Writes a synthetic model to `outPath` and returns its absolute path and size. The file is written
 * under a temporary name in the same folder and renamed at the end, so an interrupted run never
 * leaves a truncated model under the final name. Same options => byte-identical file.
 */
export async function synthesizeModel(options: SynthesizeModelOptions): Promise<{path: string; bytes: number}> {
    const plan = await planSyntheticModel(options);
    const path = resolve(options.outPath);
    await mkdir(dirname(path), {recursive: true});
    const temporaryPath = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;

    let tensorsDone = 0;
    const tensors = plan.tensors.map((tensor, index): GgufTensorSource => ({
        ...tensor,
        generate: async function* () {
            yield* tensor.generate();
            tensorsDone++;
            const next = plan.layout.tensorInfos[index + 1];
            options.onProgress?.({
                tensorsDone,
                tensorCount: plan.tensors.length,
                bytesDone: next === undefined ? plan.layout.totalBytes : plan.layout.dataOffset + next.offset,
                totalBytes: plan.layout.totalBytes
            });
        }
    }));
    try {
        await writeGguf(temporaryPath, {metadata: plan.metadata, tensors});
        await rename(temporaryPath, path);
    } catch (error) {
        await rm(temporaryPath, {force: true});
        throw error;
    }
    return {path, bytes: plan.layout.totalBytes};
}

function syntheticModelMetadata(preset: ModelPreset, type: ModelWeightType, seed: number, vocabulary: MistralVocabulary): Map<string, GgufMetadataValue> {
    const E = preset.embeddingLength;
    return new Map<string, GgufMetadataValue>([
        ["general.architecture", ggufString("llama")],
        ["general.name", ggufString(`orchard-synthetic-mixtral-${preset.name}-seed${seed}`)],
        ["general.file_type", ggufUint32(llamaFileTypeOf(type))],
        ["llama.context_length", ggufUint32(preset.contextLength)],
        ["llama.embedding_length", ggufUint32(E)],
        ["llama.block_count", ggufUint32(preset.blockCount)],
        ["llama.feed_forward_length", ggufUint32(preset.feedForwardLength)],
        ["llama.attention.head_count", ggufUint32(preset.headCount)],
        ["llama.attention.head_count_kv", ggufUint32(preset.headCountKv)],
        ["llama.rope.dimension_count", ggufUint32(E / preset.headCount)],
        ["llama.rope.freq_base", ggufFloat32(1e6)],
        ["llama.attention.layer_norm_rms_epsilon", ggufFloat32(1e-5)],
        ["llama.expert_count", ggufUint32(preset.expertCount)],
        ["llama.expert_used_count", ggufUint32(preset.expertUsedCount)],
        ["llama.vocab_size", ggufUint32(MISTRAL_VOCABULARY_SIZE)],
        ["tokenizer.ggml.model", ggufString("llama")],
        ["tokenizer.ggml.tokens", ggufArray(GgufValueType.STRING, vocabulary.tokens)],
        ["tokenizer.ggml.scores", ggufArray(GgufValueType.FLOAT32, vocabulary.scores)],
        ["tokenizer.ggml.token_type", ggufArray(GgufValueType.INT32, vocabulary.tokenTypes)],
        ["tokenizer.ggml.bos_token_id", ggufUint32(MISTRAL_BOS_TOKEN_ID)],
        ["tokenizer.ggml.eos_token_id", ggufUint32(MISTRAL_EOS_TOKEN_ID)],
        ["tokenizer.ggml.unknown_token_id", ggufUint32(MISTRAL_UNK_TOKEN_ID)],
        ["tokenizer.ggml.add_bos_token", ggufBool(true)],
        ["tokenizer.ggml.add_eos_token", ggufBool(false)],
        // metadata only (no tensor changes): node-llama-cpp picks the chat wrapper from it
        ["tokenizer.chat_template", ggufString(MIXTRAL_INSTRUCT_CHAT_TEMPLATE)],
        // provenance, so a model file says how to regenerate it
        ["orchard.synthetic.preset", ggufString(preset.name)],
        // bumped whenever a synthetic file's bytes change for the same options, so a cached older file is replaced
        ["orchard.synthetic.format", ggufUint32(SYNTHETIC_MODEL_FORMAT)],
        // u64 only where u32 cannot hold it, so files of ordinary seeds keep their bytes
        ["orchard.synthetic.seed", seed <= 0xffffffff ? ggufUint32(seed) : {type: GgufValueType.UINT64, value: BigInt(seed)}]
    ]);
}

function syntheticModelTensors(preset: ModelPreset, type: ModelWeightType, seed: number): SyntheticTensor[] {
    const E = preset.embeddingLength;
    const F = preset.feedForwardLength;
    const X = preset.expertCount;
    const V = MISTRAL_VOCABULARY_SIZE;
    const kvWidth = (E * preset.headCountKv) / preset.headCount;
    const big = ggmlTypeOf(type);
    const tensors: SyntheticTensor[] = [];
    // norms and the router stay f32 in every type, as in real quantized models
    const norm = (name: string): void => { tensors.push(syntheticTensor(seed, name, [E], GgmlType.F32, 1, NORM_NOISE_STD)); };
    // N(0, 1/sqrt(fan_in)): fan_in is the fastest (input) dimension of a ggml weight
    const projection = (name: string, shape: number[], tensorType: GgmlType = big): void => {
        tensors.push(syntheticTensor(seed, name, shape, tensorType, 0, 1 / Math.sqrt(shape[0] as number)));
    };

    // unit-variance embeddings: the first attn_norm rescales them anyway
    tensors.push(syntheticTensor(seed, "token_embd.weight", [E, V], big, 0, 1));
    for (let i = 0; i < preset.blockCount; i++) {
        norm(`blk.${i}.attn_norm.weight`);
        projection(`blk.${i}.attn_q.weight`, [E, E]);
        projection(`blk.${i}.attn_k.weight`, [E, kvWidth]);
        projection(`blk.${i}.attn_v.weight`, [E, kvWidth]);
        projection(`blk.${i}.attn_output.weight`, [E, E]);
        norm(`blk.${i}.ffn_norm.weight`);
        projection(`blk.${i}.ffn_gate_inp.weight`, [E, X], GgmlType.F32);
        projection(`blk.${i}.ffn_gate_exps.weight`, [E, F, X]);
        projection(`blk.${i}.ffn_up_exps.weight`, [E, F, X]);
        projection(`blk.${i}.ffn_down_exps.weight`, [F, E, X]);
    }
    norm("output_norm.weight");
    tensors.push(syntheticTensor(seed, "output.weight", [E, V], big, 0, LOGIT_STD / Math.sqrt(E)));
    return tensors;
}

function syntheticTensor(seed: number, name: string, shape: number[], type: GgmlType, mean: number, std: number): SyntheticTensor {
    const elements = shape.reduce((a, b) => a * b, 1);
    return {
        name, shape, type, mean, std,
        // whole rows per chunk keep chunks block-aligned for q8_0; one buffer is refilled each time
        *generate() {
            const random = SeededRandom.forStream(seed, name);
            const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / (shape[0] as number)));
            const chunk = new Float32Array(Math.min(elements, rowsPerChunk * (shape[0] as number)));
            for (let done = 0; done < elements; done += chunk.length) {
                const values = chunk.subarray(0, Math.min(chunk.length, elements - done));
                random.fillGaussian(values, mean, std);
                yield values;
            }
        }
    };
}
