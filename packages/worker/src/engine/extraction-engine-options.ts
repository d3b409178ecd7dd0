import {availableParallelism} from "node:os";
import {OrchardError} from "@orchard/shared";
import type {Logger} from "@orchard/shared";

/** Which node-llama-cpp route computes logits and hidden states. */
export type EngineRoute = "auto" | "one-pass" | "three-pass";
export type EngineGpu = "auto" | "metal" | "cuda" | "vulkan" | false;

export interface ExtractionEngineOptions {
    /** Path of a GGUF model (Mixtral architecture). */
    readonly modelPath: string;
    /** Tokens per context: the longest prompt (BOS + re-ask prompt) that fits. Default 4096. */
    readonly contextSize?: number;
    /** Tokens decoded per llama.cpp batch. Default 512. */
    readonly batchSize?: number;
    /** CPU threads for llama.cpp. Default: the machine's available parallelism. */
    readonly threads?: number;
    /**
     * Independent contexts evaluated concurrently, so one document's per-position read-out
     * overlaps the next document's forward pass. Default 2.
     */
    readonly contexts?: number;
    /**
     * llama.cpp flash attention. Set explicitly (node-llama-cpp's "auto" may change between
     * versions and machines, and with it the low bits of the attributes). Default true.
     */
    readonly flashAttention?: boolean;
    /** GPU backend; "auto" picks Metal on Apple Silicon, CUDA/Vulkan where present. Default "auto". */
    readonly gpu?: EngineGpu;
    /**
     * "one-pass" reads logits and hidden states from ONE forward pass through node-llama-cpp
     * internals; "three-pass" uses only public API (three passes); "auto" probes the internals
     * and falls back with a warning. Default "auto".
     */
    readonly route?: EngineRoute;
    readonly logger?: Logger;
}

export interface ResolvedExtractionEngineOptions {
    readonly modelPath: string;
    readonly contextSize: number;
    readonly batchSize: number;
    readonly threads: number;
    readonly contexts: number;
    readonly flashAttention: boolean;
    readonly gpu: EngineGpu;
    readonly route: EngineRoute;
    readonly logger: Logger | undefined;
}

export const DEFAULT_CONTEXT_SIZE = 4096;
export const DEFAULT_BATCH_SIZE = 512;
export const DEFAULT_ENGINE_CONTEXTS = 2;

export function resolveExtractionEngineOptions(options: ExtractionEngineOptions): ResolvedExtractionEngineOptions {
    const contextSize = positiveInteger("contextSize", options.contextSize ?? DEFAULT_CONTEXT_SIZE);
    const batchSize = positiveInteger("batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE);
    return {
        modelPath: options.modelPath,
        contextSize,
        batchSize: Math.min(batchSize, contextSize),
        threads: positiveInteger("threads", options.threads ?? availableParallelism()),
        contexts: positiveInteger("contexts", options.contexts ?? DEFAULT_ENGINE_CONTEXTS),
        flashAttention: options.flashAttention ?? true,
        gpu: options.gpu ?? "auto",
        route: options.route ?? "auto",
        logger: options.logger
    };
}

function positiveInteger(name: string, value: number): number {
    if (!Number.isInteger(value) || value <= 0)
        throw new OrchardError("INVALID_ARGUMENT", `${name} must be a positive integer (got ${value})`);
    return value;
}
