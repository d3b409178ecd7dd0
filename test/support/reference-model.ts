import {NO_TOKEN_ID, YES_TOKEN_ID} from "../../packages/shared/src/attributes/attribute-definitions.ts";
import {computeAttributes} from "../../packages/shared/src/attributes/compute-attributes.ts";
import {OrchardError} from "../../packages/shared/src/errors/orchard-error.ts";
import {GgufReader} from "../../packages/shared/src/gguf/gguf-reader.ts";
import type {GgufMetadataValue} from "../../packages/shared/src/gguf/gguf-types.ts";

/**
 * A float64 forward pass of a llama-architecture Mixtral (MoE) GGUF, written from the math rather
 * than from llama.cpp, so tests can check what the engine computes. Only for small models: every
 * weight is dequantized once, at load.
 *
 * Tight agreement with llama.cpp needs f32 weights: for f16 and q8_0 weights ggml also rounds the
 * activations to f16 / q8_0 before each matmul, which this does not emulate (measured on the tiny
 * model: ~5e-3 logits with f16 weights, ~0.2 with q8_0).
 *
 * ggml layout: a weight of shape {in, out} (fastest first) maps y[o] = sum_i W[o*in + i] * x[i];
 * expert tensors {in, out, n_expert} hold expert e's matrix at offset e*in*out.
 */

export interface ReferenceModelConfig {
    readonly embeddingLength: number;
    readonly blockCount: number;
    readonly headCount: number;
    readonly headCountKv: number;
    readonly headDim: number;
    /** Leading dimensions of each head that RoPE rotates (llama.rope.dimension_count). */
    readonly ropeDims: number;
    readonly ropeFreqBase: number;
    readonly rmsEpsilon: number;
    readonly expertCount: number;
    readonly expertUsedCount: number;
    readonly feedForwardLength: number;
    readonly vocabularySize: number;
}

export interface ReferenceForward {
    /** Largest logit at each position. */
    readonly maxLogits: Float64Array;
    /** Second-largest logit at each position. */
    readonly secondLogits: Float64Array;
    /** H_t, the final-norm hidden state at each position. */
    readonly hiddenStates: Float64Array[];
    /** All vocabulary logits at the last position. */
    readonly lastLogits: Float64Array;
    /**
     * Per position, the smallest gap over layers between the k-th and (k+1)-th largest router
     * logit. Where it is below the rounding noise of the comparison (~1e-4 to 1e-3 on router logits
     * for f32 weights), llama.cpp can legitimately pick another expert, which moves that position's
     * logits by O(1): skip such positions, or choose inputs without them.
     */
    readonly minRouterMargin: Float64Array;
}

/**
 * Weights stay in the float32 the file dequantizes to: that is exactly the value ggml uses, and a
 * float32 x float64 product is computed in float64 all the same, at half the memory traffic.
 */
type Weights = Float32Array;

/**
 * How llama.cpp's CPU backend rounds attention with its default f16 KV cache, measured against
 * node-llama-cpp 3.22.1 (ggml ops.cpp). In every mode K and V are rounded to f16 (the cache); then:
 * - "f16-kv": no flash attention. Q is converted to f16 to dot with K, and the softmax weights to
 *   f16 to multiply V.
 * - "f16-kv-flash-tiled": flash attention on a ubatch of >= 64 tokens (GGML_FA_TILE_Q): Q stays
 *   f32 and everything accumulates in f32, so only the cache rounds.
 * - "f16-kv-flash-vec": flash attention on a ubatch of < 64 tokens: Q in f16, and the weighted sum
 *   of V accumulated in an f16 buffer with an online softmax: ~10x the error of the other two.
 * node-llama-cpp's default flashAttention "auto" turns flash attention on for CPU.
 */
export type AttentionEmulation = "f16-kv" | "f16-kv-flash-tiled" | "f16-kv-flash-vec";

export interface ReferenceForwardOptions {
    /**
     * Round attention like llama.cpp instead of computing it in float64 (everything else stays
     * float64). With the matching mode the reference agrees with llama.cpp to ~1e-5, so a test can
     * tell a real bug from rounding.
     */
    readonly emulateAttention?: AttentionEmulation;
}

interface ReferenceLayer {
    readonly attnNorm: Weights;
    readonly wq: Weights;
    readonly wk: Weights;
    readonly wv: Weights;
    readonly wo: Weights;
    readonly ffnNorm: Weights;
    readonly router: Weights;
    /** Per expert: {E, F} gate and up, {F, E} down. */
    readonly gate: Weights[];
    readonly up: Weights[];
    readonly down: Weights[];
}

export class ReferenceModel {
    public readonly config: ReferenceModelConfig;
    private readonly tokenEmbedding: Weights;
    private readonly layers: readonly ReferenceLayer[];
    private readonly outputNorm: Weights;
    private readonly output: Weights;

    private constructor(config: ReferenceModelConfig, tokenEmbedding: Weights, layers: ReferenceLayer[], outputNorm: Weights, output: Weights) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
    }

    public static async load(path: string): Promise<ReferenceModel> {
        const reader = await GgufReader.open(path);
        try {
            const config = readConfig(reader);
            const {embeddingLength: E, feedForwardLength: F, expertCount: X, vocabularySize: V} = config;
            const kvWidth = config.headCountKv * config.headDim;
            const load = async (name: string, shape: readonly number[]): Promise<Weights> => {
                const actual = reader.tensor(name).shape;
                if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i]))
                    throw new OrchardError("MODEL_INVALID", `${path}: tensor "${name}" has shape [${actual.join(", ")}], expected [${shape.join(", ")}]`);
                return reader.readTensor(name);
            };
            /** Merged {in, out, X} expert tensors (current converters), else per-expert tensors (older Mixtral GGUFs). */
            const loadExperts = async (layer: number, kind: string, inDim: number, outDim: number): Promise<Weights[]> => {
                const merged = `blk.${layer}.ffn_${kind}_exps.weight`;
                if (reader.hasTensor(merged)) {
                    const all = await load(merged, [inDim, outDim, X]);
                    return Array.from({length: X}, (_, e) => all.subarray(e * inDim * outDim, (e + 1) * inDim * outDim));
                }
                const experts: Weights[] = [];
                for (let e = 0; e < X; e++) experts.push(await load(`blk.${layer}.ffn_${kind}.${e}.weight`, [inDim, outDim]));
                return experts;
            };

            const tokenEmbedding = await load("token_embd.weight", [E, V]);
            const layers: ReferenceLayer[] = [];
            for (let i = 0; i < config.blockCount; i++) {
                layers.push({
                    attnNorm: await load(`blk.${i}.attn_norm.weight`, [E]),
                    wq: await load(`blk.${i}.attn_q.weight`, [E, config.headCount * config.headDim]),
                    wk: await load(`blk.${i}.attn_k.weight`, [E, kvWidth]),
                    wv: await load(`blk.${i}.attn_v.weight`, [E, kvWidth]),
                    wo: await load(`blk.${i}.attn_output.weight`, [config.headCount * config.headDim, E]),
                    ffnNorm: await load(`blk.${i}.ffn_norm.weight`, [E]),
                    router: await load(`blk.${i}.ffn_gate_inp.weight`, [E, X]),
                    gate: await loadExperts(i, "gate", E, F),
                    up: await loadExperts(i, "up", E, F),
                    down: await loadExperts(i, "down", F, E)
                });
            }
            const outputNorm = await load("output_norm.weight", [E]);
            // models with tied embeddings ship no output.weight; llama.cpp then reuses token_embd
            const output = reader.hasTensor("output.weight") ? await load("output.weight", [E, V]) : tokenEmbedding;
            return new ReferenceModel(config, tokenEmbedding, layers, outputNorm, output);
        } finally {
            await reader.close();
        }
    }

    /** Runs `tokens` as one causal sequence from position 0, exactly as given (no BOS is added). */
    public forward(tokens: readonly number[], options: ReferenceForwardOptions = {}): ReferenceForward {
        const emulation = options.emulateAttention;
        const c = this.config;
        const E = c.embeddingLength;
        const T = tokens.length;
        if (T === 0) throw new RangeError("forward needs at least one token");
        const headDim = c.headDim;
        const qWidth = c.headCount * headDim;
        const kvWidth = c.headCountKv * headDim;
        const headsPerKv = c.headCount / c.headCountKv;
        const scale = 1 / Math.sqrt(headDim);

        // the residual stream, one row of E per position
        const x = new Float64Array(T * E);
        tokens.forEach((token, t) => {
            if (!Number.isInteger(token) || token < 0 || token >= c.vocabularySize) throw new RangeError(`token ${token} is outside the vocabulary`);
            x.set(this.tokenEmbedding.subarray(token * E, (token + 1) * E), t * E);
        });

        const normed = new Float64Array(E);
        const q = new Float64Array(T * qWidth);
        const k = new Float64Array(T * kvWidth);
        const v = new Float64Array(T * kvWidth);
        const attended = new Float64Array(qWidth);
        const projected = new Float64Array(E);
        const scores = new Float64Array(T);
        const accumulator = new Float64Array(headDim);
        const routerLogits = new Float64Array(c.expertCount);
        const gateOut = new Float64Array(c.feedForwardLength);
        const upOut = new Float64Array(c.feedForwardLength);
        const expertOut = new Float64Array(E);
        const ropeCos = new Float64Array(c.ropeDims / 2);
        const ropeSin = new Float64Array(c.ropeDims / 2);
        const minRouterMargin = new Float64Array(T).fill(Infinity);

        for (const layer of this.layers) {
            for (let t = 0; t < T; t++) {
                rmsNorm(x, t * E, E, layer.attnNorm, c.rmsEpsilon, normed);
                matVec(layer.wq, E, qWidth, normed, q, t * qWidth);
                matVec(layer.wk, E, kvWidth, normed, k, t * kvWidth);
                matVec(layer.wv, E, kvWidth, normed, v, t * kvWidth);
                ropeAngles(t, c.ropeDims, c.ropeFreqBase, ropeCos, ropeSin);
                for (let h = 0; h < c.headCount; h++) rope(q, t * qWidth + h * headDim, ropeCos, ropeSin);
                for (let h = 0; h < c.headCountKv; h++) rope(k, t * kvWidth + h * headDim, ropeCos, ropeSin);
                if (emulation !== undefined) {
                    roundToF16InPlace(k, t * kvWidth, kvWidth);
                    roundToF16InPlace(v, t * kvWidth, kvWidth);
                    // ggml converts Q to K's type (f16) for its dot products, except in the tiled kernel
                    if (emulation !== "f16-kv-flash-tiled") roundToF16InPlace(q, t * qWidth, qWidth);
                }
            }
            for (let t = 0; t < T; t++) {
                for (let h = 0; h < c.headCount; h++) {
                    const head: HeadView = {
                        q, qBase: t * qWidth + h * headDim, k, v,
                        kvBase: Math.floor(h / headsPerKv) * headDim, kvStride: kvWidth, headDim, lastPosition: t
                    };
                    if (emulation === "f16-kv-flash-vec") flashAttendF16(head, scale, attended, h * headDim, accumulator);
                    else attend(head, scale, emulation === "f16-kv", scores, attended, h * headDim);
                }
                matVec(layer.wo, qWidth, E, attended, projected, 0);
                addInto(x, t * E, projected);
            }

            for (let t = 0; t < T; t++) {
                rmsNorm(x, t * E, E, layer.ffnNorm, c.rmsEpsilon, normed);
                matVec(layer.router, E, c.expertCount, normed, routerLogits, 0);
                minRouterMargin[t] = Math.min(minRouterMargin[t] as number, routerMargin(routerLogits, c.expertUsedCount));
                for (const {expert, weight} of routeTopK(routerLogits, c.expertUsedCount)) {
                    matVec(layer.gate[expert] as Weights, E, c.feedForwardLength, normed, gateOut, 0);
                    matVec(layer.up[expert] as Weights, E, c.feedForwardLength, normed, upOut, 0);
                    for (let f = 0; f < c.feedForwardLength; f++) {
                        const g = gateOut[f] as number;
                        gateOut[f] = (g / (1 + Math.exp(-g))) * (upOut[f] as number);
                    }
                    matVec(layer.down[expert] as Weights, c.feedForwardLength, E, gateOut, expertOut, 0);
                    for (let i = 0; i < E; i++) x[t * E + i] = (x[t * E + i] as number) + weight * (expertOut[i] as number);
                }
            }
        }

        const V = c.vocabularySize;
        const maxLogits = new Float64Array(T);
        const secondLogits = new Float64Array(T);
        const hiddenStates: Float64Array[] = [];
        const logits = new Float64Array(V);
        for (let t = 0; t < T; t++) {
            const hidden = new Float64Array(E);
            rmsNorm(x, t * E, E, this.outputNorm, c.rmsEpsilon, hidden);
            hiddenStates.push(hidden);
            matVec(this.output, E, V, hidden, logits, 0);
            let first = -Infinity;
            let second = -Infinity;
            for (let i = 0; i < V; i++) {
                const z = logits[i] as number;
                if (z > first) {
                    second = first;
                    first = z;
                } else if (z > second) {
                    second = z;
                }
            }
            maxLogits[t] = first;
            secondLogits[t] = second;
        }
        return {maxLogits, secondLogits, hiddenStates, lastLogits: logits, minRouterMargin};
    }
}

/** The 32 attributes of `tokens` as the reference computes them (same math as the engine's path). */
export function referenceAttributes(model: ReferenceModel, tokens: readonly number[], options: ReferenceForwardOptions = {}): number[] {
    const result = model.forward(tokens, options);
    const E = model.config.embeddingLength;
    const hiddenMean = new Float64Array(E);
    for (const hidden of result.hiddenStates)
        for (let i = 0; i < E; i++) hiddenMean[i] = (hiddenMean[i] as number) + (hidden[i] as number);
    for (let i = 0; i < E; i++) hiddenMean[i] = (hiddenMean[i] as number) / result.hiddenStates.length;
    return computeAttributes({
        maxLogits: result.maxLogits,
        secondLogits: result.secondLogits,
        hiddenMean,
        hiddenLast: result.hiddenStates.at(-1) as Float64Array,
        yesLogit: result.lastLogits[YES_TOKEN_ID] as number,
        noLogit: result.lastLogits[NO_TOKEN_ID] as number
    });
}

/**
 * Softmax over all router logits, then the top k, renormalized to sum 1 (Mixtral's gating as
 * llama.cpp runs it: softmax before selection, so the renormalization is what makes top-k weights sum to 1).
 */
export function routeTopK(routerLogits: Float64Array, k: number): {expert: number; weight: number}[] {
    let max = -Infinity;
    for (const z of routerLogits) if (z > max) max = z;
    const probabilities = Array.from(routerLogits, (z) => Math.exp(z - max));
    const total = probabilities.reduce((a, b) => a + b, 0);
    const ranked = probabilities.map((p, expert) => ({expert, weight: p / total})).sort((a, b) => b.weight - a.weight || a.expert - b.expert).slice(0, k);
    const chosen = ranked.reduce((a, b) => a + b.weight, 0);
    return ranked.map(({expert, weight}) => ({expert, weight: weight / chosen}));
}

/** Gap between the k-th and (k+1)-th largest router logit (Infinity when every expert is used). */
function routerMargin(routerLogits: Float64Array, k: number): number {
    if (k >= routerLogits.length) return Infinity;
    const sorted = Float64Array.from(routerLogits).sort().reverse();
    return (sorted[k - 1] as number) - (sorted[k] as number);
}

function readConfig(reader: GgufReader): ReferenceModelConfig {
    const path = reader.header.path;
    const metadata = reader.header.metadata;
    const invalid = (what: string): OrchardError => new OrchardError("MODEL_INVALID", `${path}: ${what}`);
    const architecture = metadata.get("general.architecture")?.value;
    if (architecture !== "llama") throw invalid(`architecture "${String(architecture)}" is not llama`);
    const number = (key: string, fallback?: number): number => {
        const entry: GgufMetadataValue | undefined = metadata.get(key);
        if (entry === undefined) {
            if (fallback === undefined) throw invalid(`metadata "${key}" is missing`);
            return fallback;
        }
        if (typeof entry.value !== "number" && typeof entry.value !== "bigint") throw invalid(`metadata "${key}" is not a number`);
        return Number(entry.value);
    };
    const embeddingLength = number("llama.embedding_length");
    const headCount = number("llama.attention.head_count");
    const headCountKv = number("llama.attention.head_count_kv", headCount);
    const headDim = embeddingLength / headCount;
    const ropeDims = number("llama.rope.dimension_count", headDim);
    if (!Number.isInteger(headDim) || headCount % headCountKv !== 0 || ropeDims % 2 !== 0 || ropeDims > headDim)
        throw invalid(`inconsistent attention shape (E ${embeddingLength}, heads ${headCount}, kv heads ${headCountKv}, rope dims ${ropeDims})`);
    const expertCount = number("llama.expert_count", 0);
    if (expertCount === 0) throw invalid("is not a mixture of experts (no llama.expert_count)");
    const tokenEmbedding = reader.tensor("token_embd.weight");
    return {
        embeddingLength,
        blockCount: number("llama.block_count"),
        headCount,
        headCountKv,
        headDim,
        ropeDims,
        ropeFreqBase: number("llama.rope.freq_base", 10000),
        rmsEpsilon: number("llama.attention.layer_norm_rms_epsilon"),
        expertCount,
        expertUsedCount: number("llama.expert_used_count"),
        feedForwardLength: number("llama.feed_forward_length"),
        vocabularySize: tokenEmbedding.shape[1] ?? 0
    };
}

/** out = x[offset..offset+n] / sqrt(mean(x^2) + eps) * weight. */
function rmsNorm(x: Float64Array, offset: number, n: number, weight: Weights, eps: number, out: Float64Array): void {
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
        const value = x[offset + i] as number;
        sumSquares += value * value;
    }
    const inverse = 1 / Math.sqrt(sumSquares / n + eps);
    for (let i = 0; i < n; i++) out[i] = (x[offset + i] as number) * inverse * (weight[i] as number);
}

/**
 * y[yOffset + o] = sum_i W[o*inDim + i] * x[i] for o < outDim. Four partial sums break the
 * dependency chain of one accumulator, which roughly halves the time of the 32000-row LM head.
 */
function matVec(w: Weights, inDim: number, outDim: number, x: Float64Array, y: Float64Array, yOffset: number): void {
    const unrolled = inDim - (inDim % 4);
    for (let o = 0; o < outDim; o++) {
        const row = o * inDim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = 0;
        for (; i < unrolled; i += 4) {
            s0 += (w[row + i] as number) * (x[i] as number);
            s1 += (w[row + i + 1] as number) * (x[i + 1] as number);
            s2 += (w[row + i + 2] as number) * (x[i + 2] as number);
            s3 += (w[row + i + 3] as number) * (x[i + 3] as number);
        }
        for (; i < inDim; i++) s0 += (w[row + i] as number) * (x[i] as number);
        y[yOffset + o] = (s0 + s1) + (s2 + s3);
    }
}

function addInto(x: Float64Array, offset: number, delta: Float64Array): void {
    for (let i = 0; i < delta.length; i++) x[offset + i] = (x[offset + i] as number) + (delta[i] as number);
}

/** One query head against the keys and values of positions 0..lastPosition (causal). */
interface HeadView {
    readonly q: Float64Array;
    readonly qBase: number;
    readonly k: Float64Array;
    readonly v: Float64Array;
    /** Offset of the kv head inside one position's K (or V) row, and the row length. */
    readonly kvBase: number;
    readonly kvStride: number;
    readonly headDim: number;
    readonly lastPosition: number;
}

function dotQK(head: HeadView, position: number): number {
    const kBase = position * head.kvStride + head.kvBase;
    let dot = 0;
    for (let d = 0; d < head.headDim; d++) dot += (head.q[head.qBase + d] as number) * (head.k[kBase + d] as number);
    return dot;
}

/** softmax(q.k_j * scale) weighted sum of v_j; `roundWeights` rounds the weights to f16 as ggml's mul_mat with an f16 V does. */
function attend(head: HeadView, scale: number, roundWeights: boolean, scores: Float64Array, out: Float64Array, outBase: number): void {
    let max = -Infinity;
    for (let j = 0; j <= head.lastPosition; j++) {
        const score = dotQK(head, j) * scale;
        scores[j] = score;
        if (score > max) max = score;
    }
    let sum = 0;
    for (let j = 0; j <= head.lastPosition; j++) {
        const p = Math.exp((scores[j] as number) - max);
        scores[j] = p;
        sum += p;
    }
    out.fill(0, outBase, outBase + head.headDim);
    for (let j = 0; j <= head.lastPosition; j++) {
        const p = roundWeights ? roundToF16((scores[j] as number) / sum) : (scores[j] as number) / sum;
        const vBase = j * head.kvStride + head.kvBase;
        for (let d = 0; d < head.headDim; d++) out[outBase + d] = (out[outBase + d] as number) + p * (head.v[vBase + d] as number);
    }
}

/**
 * ggml's CPU flash attention for short ubatches (ggml_compute_forward_flash_attn_ext_f16_one_chunk): one pass
 * with a running max M and sum S, the weighted V kept in an f16 accumulator that is rescaled
 * whenever M grows; scores, exponentials and S are float32.
 */
function flashAttendF16(head: HeadView, scale: number, out: Float64Array, outBase: number, accumulator: Float64Array): void {
    accumulator.fill(0);
    const scale32 = Math.fround(scale);
    let M = -Infinity;
    let S = 0;
    for (let j = 0; j <= head.lastPosition; j++) {
        const score = Math.fround(Math.fround(dotQK(head, j)) * scale32);
        let ms = 1;
        let vs = 1;
        if (score > M) {
            ms = Math.fround(Math.exp(M - score));
            M = score;
            for (let d = 0; d < head.headDim; d++) accumulator[d] = roundToF16((accumulator[d] as number) * ms);
        } else {
            vs = Math.fround(Math.exp(score - M));
        }
        const vBase = j * head.kvStride + head.kvBase;
        for (let d = 0; d < head.headDim; d++) accumulator[d] = roundToF16((head.v[vBase + d] as number) * vs + (accumulator[d] as number));
        S = Math.fround(S * ms + vs);
    }
    for (let d = 0; d < head.headDim; d++) out[outBase + d] = (accumulator[d] as number) / S;
}

/** x rounded to float32, then to the nearest IEEE half (ties to even), as ggml's f32 -> f16 conversion. */
export function roundToF16(x: number): number {
    const value = Math.fround(x);
    const magnitude = Math.abs(value);
    if (magnitude === 0 || !Number.isFinite(magnitude)) return value;
    if (magnitude >= 65520) return Math.sign(value) * Infinity;
    let exponent = Math.floor(Math.log2(magnitude));
    // log2 can be off by one right at powers of two
    if (2 ** exponent > magnitude) exponent--;
    else if (2 ** (exponent + 1) <= magnitude) exponent++;
    // halves below 2^-14 are subnormal with a fixed quantum of 2^-24
    const quantum = 2 ** (Math.max(exponent, -14) - 10);
    const scaled = magnitude / quantum;
    const floor = Math.floor(scaled);
    const fraction = scaled - floor;
    const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
    return Math.sign(value) * rounded * quantum;
}

function roundToF16InPlace(x: Float64Array, offset: number, length: number): void {
    for (let i = offset; i < offset + length; i++) x[i] = roundToF16(x[i] as number);
}

/** cos/sin of theta_i = pos * base^(-2i/ropeDims) for each rotated pair i. */
function ropeAngles(position: number, ropeDims: number, base: number, cos: Float64Array, sin: Float64Array): void {
    for (let i = 0; i < ropeDims / 2; i++) {
        const theta = position * Math.pow(base, (-2 * i) / ropeDims);
        cos[i] = Math.cos(theta);
        sin[i] = Math.sin(theta);
    }
}

/**
 * llama.cpp's rope type NORM (the llama architecture): rotates ADJACENT pairs (x[2i], x[2i+1]) of
 * one head in place. (NEOX, used by other architectures, would pair x[i] with x[i + d/2].)
 */
function rope(x: Float64Array, offset: number, cos: Float64Array, sin: Float64Array): void {
    for (let i = 0; i < cos.length; i++) {
        const a = x[offset + 2 * i] as number;
        const b = x[offset + 2 * i + 1] as number;
        const c = cos[i] as number;
        const s = sin[i] as number;
        x[offset + 2 * i] = a * c - b * s;
        x[offset + 2 * i + 1] = a * s + b * c;
    }
}
