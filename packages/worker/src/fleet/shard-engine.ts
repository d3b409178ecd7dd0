import type {GenerateSettings, MachineFacts, NumericsSettings, TaskKindName} from "@orchard/shared";
import type {GeneratedDocument, GenerationRequest} from "../generate/document-generator.ts";

/**
 * What a fleet worker needs of an engine: tokenize a prompt, compute a document's 32 attributes,
 * score a classify task's label answers.
 * The real one wraps ExtractionEngine; the simulated one (tests, benchmarks) fakes it at a set
 * speed. Either way a worker advertises the fingerprint of what it computes, not of the file alone.
 */
export interface ShardEngine {
    /** "llama" or "simulated". */
    readonly kind: "llama" | "simulated";
    /** The backend node-llama-cpp picked ("metal", "cuda", "vulkan", "cpu"), for monitoring; none for the simulated engine. */
    readonly backend?: string;
    /** The settings its results depend on (the run's must equal them); undefined for the simulated engine, whose results depend on none. */
    readonly numerics: NumericsSettings | undefined;
    /** Where it computes: each shard result's provenance. */
    readonly machine: MachineFacts;
    /** Documents evaluated at once. */
    readonly contexts: number;
    /** The longest prompt (BOS included) the engine accepts, in tokens. */
    readonly contextSize: number;
    /** BOS followed by the tokens of `text`. */
    tokenizePrompt(text: string): number[];
    /**
     * The 32 attributes of one tokenized prompt; `documentId` only names the document in errors and hooks.
     * `promptText`: the re-ask prompt text the tokens were built with, for prefix reuse (none: evaluated in full).
     */
    extract(tokens: readonly number[], documentId: string, promptText?: string): Promise<number[]>;
    /** Documents evaluated with and without prefix reuse since the engine loaded; none for an engine that does not reuse. */
    readonly prefixReuse?: {readonly reused: number; readonly full: number};
    /** The model's end-of-sequence token (ends a classify task's label answers). */
    readonly eosToken: number;
    /** Log-probability of each continuation after `prefix` (BOS first): a classify task's stage 1. */
    scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[], documentId: string): Promise<number[]>;
    /** Loads what a task kind needs beyond the re-ask's engine, once (processShard calls it before a shard's prompts). */
    prepareTask(kind: TaskKindName): Promise<void>;
    /** The generate task: tokens of a request's chat-formatted prompt (BOS, [INST] … [/INST]), as `generate` samples after. */
    generationPromptTokens(request: GenerationRequest): number[];
    /** The generate task: one document's completion under a run's settings, exactly as `orchard generate` computes it. */
    generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument>;
    close(): Promise<void>;
}
