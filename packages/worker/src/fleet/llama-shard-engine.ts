import {availableParallelism} from "node:os";
import {DEFAULT_GENERATION_SAMPLING, OrchardError, type GenerateSettings, type MachineFacts, type NumericsSettings, type TaskKindName} from "@orchard/shared";
import {ExtractionEngine} from "../engine/extraction-engine.ts";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import type {GeneratedDocument, GenerationRequest} from "../generate/document-generator.ts";
import {GenerationEngine} from "../generate/generation-engine.ts";
import type {ShardEngine} from "./shard-engine.ts";

/** The real engine of a fleet worker: node-llama-cpp through ExtractionEngine, as `orchard extract` uses it. */
export class LlamaShardEngine implements ShardEngine {
    public readonly kind = "llama";
    readonly #engine: ExtractionEngine;
    readonly #options: ExtractionEngineOptions;
    /** The generate task's engine, loaded on its first document (a re-ask-only worker never loads it). */
    #generation: Promise<GenerationEngine> | undefined;
    #loadedGeneration: GenerationEngine | undefined;
    /** Its one sequence takes one document at a time. */
    #generating: Promise<unknown> = Promise.resolve();

    private constructor(engine: ExtractionEngine, options: ExtractionEngineOptions) {
        this.#engine = engine;
        this.#options = options;
    }

    public static async load(options: ExtractionEngineOptions): Promise<LlamaShardEngine> {
        return new LlamaShardEngine(await ExtractionEngine.load(options), options);
    }

    public get backend(): string {
        return this.#engine.gpu === false ? "cpu" : this.#engine.gpu;
    }

    public get numerics(): NumericsSettings {
        const options = this.#engine.options;
        // the route in use: "auto" resolved (and fallen back) at load
        return {batchSize: options.batchSize, engineRoute: this.#engine.route, flashAttention: options.flashAttention, contextSize: options.contextSize, prefixReuse: options.prefixReuse};
    }

    public get machine(): MachineFacts {
        return this.#engine.machine;
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

    public extract(tokens: readonly number[], _documentId: string, promptText?: string): Promise<number[]> {
        return this.#engine.extract(tokens, promptText);
    }

    public get prefixReuse(): {reused: number; full: number} {
        const {reused, full} = this.#engine.prefixReuseCounts;
        return {reused, full};
    }

    public get eosToken(): number {
        return this.#engine.eosToken;
    }

    public scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        return this.#engine.scoreContinuations(prefix, continuations);
    }

    public generationPromptTokens(request: GenerationRequest): number[] {
        // prepareTask("generate") loads it before a shard's prompts are built (processShard)
        if (this.#loadedGeneration === undefined) throw new OrchardError("INTERNAL", "the generation engine is not loaded: prepareTask(\"generate\") first");
        return this.#loadedGeneration.generator.promptTokens(request);
    }

    /** The generate task loads its own engine (a second, plain model of the same file: mmap shares its pages); the re-ask needs nothing more. */
    public async prepareTask(kind: TaskKindName): Promise<void> {
        if (kind !== "generate") return;
        this.#generation ??= GenerationEngine.load({
            modelPath: this.#options.modelPath,
            contextSize: this.contextSize,
            batchSize: this.#options.batchSize,
            // as `orchard generate`'s default, so that a document's bits are the same on either
            threads: this.#options.threads ?? availableParallelism(),
            gpu: this.#options.gpu ?? "auto",
            sampling: DEFAULT_GENERATION_SAMPLING,
            ...(this.#options.logger === undefined ? {} : {logger: this.#options.logger})
        });
        this.#loadedGeneration = await this.#generation;
    }

    public async generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        await this.prepareTask("generate");
        const engine = this.#loadedGeneration as GenerationEngine;
        const run = this.#generating.then(async () => {
            const generator = await engine.generatorFor(settings.sampling, settings.jsonSchema);
            return generator.generate(request);
        });
        this.#generating = run.catch(() => undefined);
        return run;
    }

    public async close(): Promise<void> {
        await this.#generating;
        if (this.#generation !== undefined) await (await this.#generation.catch(() => undefined))?.close();
        await this.#engine.close();
    }
}
