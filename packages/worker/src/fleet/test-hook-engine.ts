import {OrchardError} from "@orchard/shared";
import type {ShardEngine} from "./shard-engine.ts";

/** Failure and timing hooks for tests (ORCHARD_TEST_POISON_IDS, ORCHARD_TEST_DOCUMENT_DELAY_MS). */
export interface EngineTestHooks {
    /** Documents whose evaluation throws a retryable ENGINE_FAILED, as a crashing engine would. */
    readonly poisonIds?: ReadonlySet<string>;
    /** Milliseconds added to every document, to widen the windows in which tests kill or stop a worker. */
    readonly documentDelayMs?: number;
}

/** Wraps an engine with test hooks; a worker without hooks never builds one. */
export class TestHookEngine implements ShardEngine {
    readonly #inner: ShardEngine;
    readonly #hooks: EngineTestHooks;

    public constructor(inner: ShardEngine, hooks: EngineTestHooks) {
        this.#inner = inner;
        this.#hooks = hooks;
    }

    public static needed(hooks: EngineTestHooks | undefined): hooks is EngineTestHooks {
        return hooks !== undefined && ((hooks.poisonIds?.size ?? 0) > 0 || (hooks.documentDelayMs ?? 0) > 0);
    }

    public get kind() {
        return this.#inner.kind;
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

    public async extract(tokens: readonly number[], documentId: string): Promise<number[]> {
        const delay = this.#hooks.documentDelayMs ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.#hooks.poisonIds?.has(documentId) === true)
            throw new OrchardError("ENGINE_FAILED", `the engine failed on document "${documentId}" (test hook ORCHARD_TEST_POISON_IDS)`, {retryable: true});
        return this.#inner.extract(tokens, documentId);
    }

    public async close(): Promise<void> {
        await this.#inner.close();
    }
}
