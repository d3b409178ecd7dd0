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

/**
 * Logits at every position AND the final-norm hidden states from ONE forward pass.
 *
 * The model is loaded mean-pooled and the context created with node-llama-cpp's internal
 * `_embeddings: true`, so after each decode llama.cpp holds both the logits of every position and
 * the mean hidden state of the tokens in that decode (sequence 0). Positions 1..T-1 are decoded
 * in chunks of at most batchSize (each chunk's mean, weighted by its length, adds up to the
 * sum), then the last token alone: its one-token "mean" is H_T.
 */
export class OnePassEvaluator implements DocumentEvaluator {
    readonly #context: LlamaContext;
    readonly #sequence: LlamaContextSequence;
    readonly #addon: AddonContextInternals;
    readonly #chunkSize: number;
    readonly #embeddingSize: number;

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

    public async evaluate(tokens: readonly number[]): Promise<AttributeInputs> {
        const T = tokens.length;
        if (T < 2) throw new RangeError("a prompt has at least BOS and one token");
        await this.#sequence.clearHistory();

        const maxLogits = new Float64Array(T);
        const secondLogits = new Float64Array(T);
        const hiddenSum = new Float64Array(this.#embeddingSize);
        const head = T - 1;
        for (let start = 0; start < head; start += this.#chunkSize) {
            const chunk = tokens.slice(start, Math.min(head, start + this.#chunkSize));
            const outputs = await this.#sequence.controlledEvaluate(chunk.map((token) => [token as Token, {generateNext: TOP_TWO_REQUEST}]));
            for (let i = 0; i < chunk.length; i++) {
                const logits = outputs[i]?.next.logits;
                if (logits == null) throw new OrchardError("ENGINE_FAILED", `no logits returned for position ${start + i}`, {retryable: true});
                [maxLogits[start + i], secondLogits[start + i]] = topTwoLogits(logits);
            }
            this.#addChunkMean(hiddenSum, chunk.length);
        }

        const [last] = await this.#sequence.controlledEvaluate([[tokens[head] as Token, {generateNext: LAST_POSITION_REQUEST}]]);
        const lastLogits = last?.next.logits;
        if (lastLogits == null) throw new OrchardError("ENGINE_FAILED", "no logits returned for the last position", {retryable: true});
        [maxLogits[head], secondLogits[head]] = topTwoLogits(lastLogits);
        const hiddenLast = this.#readEmbedding(1);
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
        return scoreContinuations(this.#sequence, this.#chunkSize, prefix, continuations);
    }

    public async close(): Promise<void> {
        if (!this.#context.disposed) await this.#context.dispose();
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

function requireLogit(logits: ReadonlyMap<number, number>, token: number): number {
    const value = logits.get(token);
    if (value === undefined) throw new OrchardError("ENGINE_FAILED", `logit of token ${token} missing at the last position`);
    return value;
}
