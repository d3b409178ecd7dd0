import {NO_TOKEN_ID, OrchardError, YES_TOKEN_ID, type AttributeInputs} from "@orchard/shared";
import type {LlamaContext, LlamaContextSequence, LlamaModel, Token} from "node-llama-cpp";
import type {DocumentEvaluator} from "./document-evaluator.ts";
import {LAST_POSITION_REQUEST, TOP_TWO_REQUEST} from "./evaluation-requests.ts";
import {scoreContinuations} from "./continuation-scorer.ts";
import {topTwoLogits} from "./top-two.ts";

/** The node-llama-cpp internals this route relies on (3.22.1); probed at start-up. */
interface AddonContextInternals {
    getEmbedding(inputTokensLength: number, maxVectorSize?: number): Float64Array;
}

/** Per-position statistics of positions [0, length) of a prompt: what the attributes need of them. */
interface SpanStatistics {
    readonly maxLogits: Float64Array;
    readonly secondLogits: Float64Array;
    /** Sum over the span's positions of the final-norm hidden state. */
    readonly hiddenSum: Float64Array;
}

/** The prompt prefix held in sequence 0's KV cache, with its positions' statistics. */
interface CachedPrefix extends SpanStatistics {
    readonly tokens: readonly number[];
}

/**
 * Logits at every position AND the final-norm hidden states from ONE forward pass.
 *
 * The model is loaded mean-pooled and the context created with node-llama-cpp's internal
 * `_embeddings: true`, so after each decode llama.cpp holds both the logits of every position and
 * the mean hidden state of the tokens in that decode (sequence 0). Positions 1..T-1 are decoded
 * in chunks of at most batchSize (each chunk's mean, weighted by its length, adds up to the
 * sum), then the last token alone: its one-token "mean" is H_T.
 *
 * Prefix reuse: under causal attention a prefix's logits, hidden states and KV entries do not
 * depend on what follows it. Given a `prefixLength`, the prefix is decoded once (from an empty
 * sequence, always in the same chunks) and kept in the KV cache with its positions' top-2 logits
 * and hidden sum; each document then decodes only its suffix (chunks counted from the prefix's
 * end) and erases it afterwards, so the sequence holds exactly the prefix before every document:
 * a document's result never depends on which documents the context evaluated before. The one
 * prefix kept is the last one asked for (a run with one prompt text never re-decodes it).
 */
export class OnePassEvaluator implements DocumentEvaluator {
    readonly #context: LlamaContext;
    readonly #sequence: LlamaContextSequence;
    readonly #addon: AddonContextInternals;
    readonly #chunkSize: number;
    readonly #embeddingSize: number;
    /** What sequence 0 holds between documents; undefined when it may hold anything else. */
    #prefix: CachedPrefix | undefined;

    private constructor(context: LlamaContext, addon: AddonContextInternals, embeddingSize: number) {
        this.#context = context;
        this.#sequence = context.getSequence();
        this.#addon = addon;
        this.#chunkSize = context.batchSize;
        this.#embeddingSize = embeddingSize;
    }

    /** `model` must have been loaded with `metadataOverrides: {llama: {pooling_type: 1}}` (mean). */
    public static async create(model: LlamaModel, options: {contextSize: number; batchSize: number; threads: number; flashAttention: boolean}): Promise<OnePassEvaluator> {
        const context = await model.createContext({
            contextSize: options.contextSize,
            batchSize: options.batchSize,
            threads: options.threads,
            sequences: 1,
            // explicit, so that results do not change with node-llama-cpp's "auto" heuristics
            flashAttention: options.flashAttention,
            // internal option of node-llama-cpp 3.22.1 (what createEmbeddingContext passes)
            ...({_embeddings: true} as object)
        });
        const addon = (context as unknown as {_ctx?: Partial<AddonContextInternals>})._ctx;
        if (addon == null || typeof addon.getEmbedding !== "function") {
            await context.dispose();
            throw new OrchardError("ENGINE_UNSUPPORTED", "node-llama-cpp internals changed: LlamaContext._ctx.getEmbedding is missing");
        }
        return new OnePassEvaluator(context, addon as AddonContextInternals, model.embeddingVectorSize);
    }

    public async evaluate(tokens: readonly number[], prefixLength?: number): Promise<AttributeInputs> {
        const T = tokens.length;
        if (T < 2) throw new RangeError("a prompt has at least BOS and one token");
        if (prefixLength !== undefined && !(Number.isInteger(prefixLength) && prefixLength > 0 && prefixLength < T))
            throw new RangeError(`prefix length ${prefixLength} is outside 1..${T - 1}`);

        const maxLogits = new Float64Array(T);
        const secondLogits = new Float64Array(T);
        const hiddenSum = new Float64Array(this.#embeddingSize);
        const head = T - 1;
        let start = 0;
        if (prefixLength === undefined) {
            this.#prefix = undefined;
            await this.#sequence.clearHistory();
        } else {
            const prefix = await this.#ensurePrefix(tokens.slice(0, prefixLength));
            maxLogits.set(prefix.maxLogits);
            secondLogits.set(prefix.secondLogits);
            hiddenSum.set(prefix.hiddenSum);
            start = prefixLength;
        }

        let lastLogits: ReadonlyMap<number, number>;
        let hiddenLast: Float64Array;
        try {
            await this.#decodeSpan(tokens, start, head, {maxLogits, secondLogits, hiddenSum});
            const [last] = await this.#sequence.controlledEvaluate([[tokens[head] as Token, {generateNext: LAST_POSITION_REQUEST}]]);
            const logits = last?.next.logits;
            if (logits == null) throw new OrchardError("ENGINE_FAILED", "no logits returned for the last position", {retryable: true});
            lastLogits = logits;
            hiddenLast = this.#readEmbedding(1);
        } finally {
            if (this.#prefix !== undefined) await this.#restorePrefix();
        }
        [maxLogits[head], secondLogits[head]] = topTwoLogits(lastLogits);
        for (let i = 0; i < hiddenSum.length; i++) hiddenSum[i] = ((hiddenSum[i] as number) + (hiddenLast[i] as number)) / T;

        return {
            maxLogits,
            secondLogits,
            hiddenMean: hiddenSum,
            hiddenLast,
            yesLogit: requireLogit(lastLogits, YES_TOKEN_ID),
            noLogit: requireLogit(lastLogits, NO_TOKEN_ID)
        };
    }

    public scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        // the scorer clears and refills the sequence: the cached prefix is gone
        this.#prefix = undefined;
        return scoreContinuations(this.#sequence, this.#chunkSize, prefix, continuations);
    }

    public async close(): Promise<void> {
        if (!this.#context.disposed) await this.#context.dispose();
    }

    /** The cached prefix for `tokens`, decoding it from an empty sequence first unless it is the one held. */
    async #ensurePrefix(tokens: readonly number[]): Promise<CachedPrefix> {
        const held = this.#prefix;
        if (held !== undefined && sameTokens(held.tokens, tokens) && this.#sequence.nextTokenIndex === tokens.length) return held;
        this.#prefix = undefined;
        await this.#sequence.clearHistory();
        const statistics: SpanStatistics = {
            maxLogits: new Float64Array(tokens.length),
            secondLogits: new Float64Array(tokens.length),
            hiddenSum: new Float64Array(this.#embeddingSize)
        };
        await this.#decodeSpan(tokens, 0, tokens.length, statistics);
        this.#prefix = {tokens: [...tokens], ...statistics};
        return this.#prefix;
    }

    /** Erases everything after the cached prefix; forgets the prefix if that fails (the next document starts afresh). */
    async #restorePrefix(): Promise<void> {
        const prefix = this.#prefix as CachedPrefix;
        const end = this.#sequence.nextTokenIndex;
        try {
            if (end > prefix.tokens.length) await this.#sequence.eraseContextTokenRanges([{start: prefix.tokens.length, end}]);
        } catch {
            this.#prefix = undefined;
        }
        if (this.#sequence.nextTokenIndex !== prefix.tokens.length) this.#prefix = undefined;
    }

    /**
     * Decodes `tokens[start..end)` after what the sequence holds, in chunks of at most batchSize
     * counted from `start`, writing each position's top-2 logits into `into` at its index and adding
     * the positions' hidden states to `into.hiddenSum`.
     */
    async #decodeSpan(tokens: readonly number[], start: number, end: number, into: SpanStatistics): Promise<void> {
        for (let from = start; from < end; from += this.#chunkSize) {
            const chunk = tokens.slice(from, Math.min(end, from + this.#chunkSize));
            const outputs = await this.#sequence.controlledEvaluate(chunk.map((token) => [token as Token, {generateNext: TOP_TWO_REQUEST}]));
            for (let i = 0; i < chunk.length; i++) {
                const logits = outputs[i]?.next.logits;
                if (logits == null) throw new OrchardError("ENGINE_FAILED", `no logits returned for position ${from + i}`, {retryable: true});
                [into.maxLogits[from + i], into.secondLogits[from + i]] = topTwoLogits(logits);
            }
            this.#addChunkMean(into.hiddenSum, chunk.length);
        }
    }

    #addChunkMean(sum: Float64Array, chunkLength: number): void {
        const mean = this.#readEmbedding(chunkLength);
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (mean[i] as number) * chunkLength;
    }

    #readEmbedding(tokenCount: number): Float64Array {
        const vector = this.#addon.getEmbedding(tokenCount);
        if (vector.length !== this.#embeddingSize)
            throw new OrchardError("ENGINE_FAILED", `hidden state has ${vector.length} values, expected ${this.#embeddingSize}`);
        return vector;
    }
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
    return a.length === b.length && a.every((token, i) => token === b[i]);
}

function requireLogit(logits: ReadonlyMap<number, number>, token: number): number {
    const value = logits.get(token);
    if (value === undefined) throw new OrchardError("ENGINE_FAILED", `logit of token ${token} missing at the last position`);
    return value;
}
