import {NO_TOKEN_ID, OrchardError, YES_TOKEN_ID, type AttributeInputs} from "@orchard/shared";
import type {LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaModel, Token} from "node-llama-cpp";
import type {DocumentEvaluator} from "./document-evaluator.ts";
import {LAST_POSITION_REQUEST, TOP_TWO_REQUEST} from "./evaluation-requests.ts";
import {scoreContinuations} from "./continuation-scorer.ts";
import {topTwoLogits} from "./top-two.ts";

/**
 * The public-API fallback: three forward passes per document (logits from a generation context,
 * H_T from an embedding context of the plain model, mean H from an embedding context of the
 * mean-pooled model). About three times slower than OnePassEvaluator; used only when a
 * node-llama-cpp upgrade breaks the internals that route needs.
 */
export class ThreePassEvaluator implements DocumentEvaluator {
    readonly #context: LlamaContext;
    readonly #sequence: LlamaContextSequence;
    readonly #lastEmbedding: LlamaEmbeddingContext;
    readonly #meanEmbedding: LlamaEmbeddingContext;

    private constructor(context: LlamaContext, lastEmbedding: LlamaEmbeddingContext, meanEmbedding: LlamaEmbeddingContext) {
        this.#context = context;
        this.#sequence = context.getSequence();
        this.#lastEmbedding = lastEmbedding;
        this.#meanEmbedding = meanEmbedding;
    }

    public static async create(plainModel: LlamaModel, meanPooledModel: LlamaModel, options: {contextSize: number; batchSize: number; threads: number; flashAttention: boolean}): Promise<ThreePassEvaluator> {
        const {contextSize, batchSize, threads, flashAttention} = options;
        const context = await plainModel.createContext({contextSize, batchSize, threads, sequences: 1, flashAttention});
        const lastEmbedding = await plainModel.createEmbeddingContext({contextSize, batchSize: contextSize, threads});
        const meanEmbedding = await meanPooledModel.createEmbeddingContext({contextSize, batchSize: contextSize, threads});
        return new ThreePassEvaluator(context, lastEmbedding, meanEmbedding);
    }

    public async evaluate(tokens: readonly number[]): Promise<AttributeInputs> {
        const T = tokens.length;
        await this.#sequence.clearHistory();
        const outputs = await this.#sequence.controlledEvaluate(tokens.map((token, t) =>
            [token as Token, {generateNext: t === T - 1 ? LAST_POSITION_REQUEST : TOP_TWO_REQUEST}]));
        const maxLogits = new Float64Array(T);
        const secondLogits = new Float64Array(T);
        for (let t = 0; t < T; t++) {
            const logits = outputs[t]?.next.logits;
            if (logits == null) throw new OrchardError("ENGINE_FAILED", `no logits returned for position ${t}`, {retryable: true});
            [maxLogits[t], secondLogits[t]] = topTwoLogits(logits);
        }
        const lastLogits = outputs[T - 1]?.next.logits ?? new Map<number, number>();
        // getEmbeddingFor accepts tokens and keeps a leading BOS as is
        const hiddenLast = (await this.#lastEmbedding.getEmbeddingFor([...tokens] as Token[])).vector;
        const hiddenMean = (await this.#meanEmbedding.getEmbeddingFor([...tokens] as Token[])).vector;
        const yesLogit = lastLogits.get(YES_TOKEN_ID);
        const noLogit = lastLogits.get(NO_TOKEN_ID);
        if (yesLogit === undefined || noLogit === undefined)
            throw new OrchardError("ENGINE_FAILED", "Yes/No logits missing at the last position");
        return {maxLogits, secondLogits, hiddenMean, hiddenLast, yesLogit, noLogit};
    }

    public scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        return scoreContinuations(this.#sequence, this.#context.batchSize, prefix, continuations);
    }

    public async close(): Promise<void> {
        await this.#meanEmbedding.dispose();
        await this.#lastEmbedding.dispose();
        if (!this.#context.disposed) await this.#context.dispose();
    }
}
