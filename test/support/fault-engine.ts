import {OrchardError, type GenerateSettings, type TaskKindName} from "@orchard/shared";
import {createShardEngine, type GeneratedDocument, type GenerationRequest, type ShardEngine, type ShardEngineFactory} from "@orchard/worker";

/** Faults a test injects into a fleet worker's engine. */
export interface EngineFaults {
    /** Documents whose evaluation throws a retryable ENGINE_FAILED, as a crashing engine would. */
    readonly poisonIds?: readonly string[];
    /** Milliseconds added to every document, to widen the windows in which a test kills or stops a worker. */
    readonly documentDelayMs?: number;
}

/**
 * The worker's own engine (createShardEngine: the model, or the simulated one) with `faults` on top.
 * Pass it as `createEngine` to startFleetWorker; a child process gets it through fault-orchard.js.
 */
export function faultEngineFactory(faults: EngineFaults): ShardEngineFactory {
    return async (init) => new FaultEngine(await createShardEngine(init), faults);
}

class FaultEngine implements ShardEngine {
    readonly #inner: ShardEngine;
    readonly #poison: ReadonlySet<string>;
    readonly #delayMs: number;

    public constructor(inner: ShardEngine, faults: EngineFaults) {
        this.#inner = inner;
        this.#poison = new Set(faults.poisonIds ?? []);
        this.#delayMs = faults.documentDelayMs ?? 0;
    }

    public get kind() {
        return this.#inner.kind;
    }

    public get numerics() {
        return this.#inner.numerics;
    }

    public get machine() {
        return this.#inner.machine;
    }

    public get backend(): string | undefined {
        return this.#inner.backend;
    }

    public get contexts(): number {
        return this.#inner.contexts;
    }

    public get contextSize(): number {
        return this.#inner.contextSize;
    }

    public tokenizePrompt(text: string): number[] {
        return this.#inner.tokenizePrompt(text);
    }

    public async extract(tokens: readonly number[], documentId: string, promptText?: string): Promise<number[]> {
        if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        if (this.#poison.has(documentId))
            throw new OrchardError("ENGINE_FAILED", `the engine failed on document "${documentId}" (a test's poisoned document)`, {retryable: true});
        // the prompt text lets the engine reuse the prompt's prefix, as the run's numerics ask
        return this.#inner.extract(tokens, documentId, promptText);
    }

    public get eosToken(): number {
        return this.#inner.eosToken;
    }

    public async scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[], documentId: string): Promise<number[]> {
        if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        return this.#inner.scoreContinuations(prefix, continuations, documentId);
    }

    public prepareTask(kind: TaskKindName): Promise<void> {
        return this.#inner.prepareTask(kind);
    }

    public generationPromptTokens(request: GenerationRequest): number[] {
        return this.#inner.generationPromptTokens(request);
    }

    public async generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        await this.#fault(request.id);
        return this.#inner.generate(request, settings);
    }

    async #fault(documentId: string): Promise<void> {
        if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        if (this.#poison.has(documentId))
            throw new OrchardError("ENGINE_FAILED", `the engine failed on document "${documentId}" (a test's poisoned document)`, {retryable: true});
    }

    public async close(): Promise<void> {
        await this.#inner.close();
    }
}
