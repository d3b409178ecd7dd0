import {ExtractionEngine} from "../engine/extraction-engine.ts";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import type {ShardEngine} from "./shard-engine.ts";

/** The real engine of a fleet worker: node-llama-cpp through ExtractionEngine, as `orchard extract` uses it. */
export class LlamaShardEngine implements ShardEngine {
    public readonly kind = "llama";
    readonly #engine: ExtractionEngine;

    private constructor(engine: ExtractionEngine) {
        this.#engine = engine;
    }

    public static async load(options: ExtractionEngineOptions): Promise<LlamaShardEngine> {
        return new LlamaShardEngine(await ExtractionEngine.load(options));
    }

    public get backend(): string {
        return this.#engine.gpu === false ? "cpu" : this.#engine.gpu;
    }

    public get contexts(): number {
        return this.#engine.options.contexts;
    }

    public get contextSize(): number {
        return this.#engine.options.contextSize;
    }

    public tokenizePrompt(text: string): number[] {
        return this.#engine.tokenizePrompt(text);
    }

    public extract(tokens: readonly number[]): Promise<number[]> {
        return this.#engine.extract(tokens);
    }

    public get eosToken(): number {
        return this.#engine.eosToken;
    }

    public scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        return this.#engine.scoreContinuations(prefix, continuations);
    }

    public async close(): Promise<void> {
        await this.#engine.close();
    }
}
