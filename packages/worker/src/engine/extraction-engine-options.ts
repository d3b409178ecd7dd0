import {availableParallelism} from "node:os";
import {DEFAULT_NUMERICS, OrchardError, PREFIX_REUSE_MODES, type PrefixReuse} from "@orchard/shared";
import type {Logger} from "@orchard/shared";

/** Which node-llama-cpp route computes logits and hidden states. */
export type EngineRoute = "auto" | "one-pass" | "three-pass";
export type EngineGpu = "auto" | "metal" | "cuda" | "vulkan" | false;
/** Whether the one-pass route keeps each prompt's shared prefix evaluated between documents (a run pins it: NumericsSettings). */
export {PREFIX_REUSE_MODES, type PrefixReuse};

export interface ExtractionEngineOptions {
    /** Path of a GGUF model (Mixtral architecture). */
    readonly modelPath: string;
    /** Tokens per context: the longest prompt (BOS + re-ask prompt) that fits. Default 4096. */
    readonly contextSize?: number;
    /** Tokens decoded per llama.cpp batch. Default 512. */
    readonly batchSize?: number;
    /** CPU threads for llama.cpp, shared by the contexts on CPU. Default: the machine's available parallelism. */
    readonly threads?: number;
    /**
     * Independent contexts evaluated concurrently, so one document's per-position read-out
     * overlaps another's forward pass. On CPU they split `threads` between them: two 1-thread
     * contexts beat one 2-thread context on 2 cores (bench/extract-bench.ts, "one-pass x2" vs
     * "x1"), as small per-token matrices scale poorly across threads. Default 2.
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
    /**
     * "auto": on the one-pass route, evaluate each prompt's document-independent prefix (BOS,
     * `[INST] How can I help you?\n` and the prompt text) once per context and only each
     * document's suffix after it, wherever the document's tokens start with exactly the prefix's
     * (else that document is evaluated in full). Moves attributes by layout noise only (the
     * prefix and the rest are decoded as separate batches: ~5e-5 on the tiny model). "off":
     * every prompt in full. The three-pass route always evaluates in full. Default "auto".
     */
    readonly prefixReuse?: PrefixReuse;
    readonly logger?: Logger;
}

export interface ResolvedExtractionEngineOptions {
    readonly modelPath: string;
    readonly contextSize: number;
    readonly batchSize: number;
    /** llama.cpp threads of each context. */
    readonly threads: number;
    readonly contexts: number;
    readonly flashAttention: boolean;
    readonly gpu: EngineGpu;
    readonly route: EngineRoute;
    readonly prefixReuse: PrefixReuse;
    readonly logger: Logger | undefined;
}

export const DEFAULT_CONTEXT_SIZE = 4096;
/** The run's default too (shared's DEFAULT_NUMERICS), so that `extract` and a fleet run compute the same bits. */
export const DEFAULT_BATCH_SIZE: number = DEFAULT_NUMERICS.batchSize;
export const DEFAULT_ENGINE_CONTEXTS = 2;

/** Resolves the options once the backend is known (`onGpu`: node-llama-cpp picked a GPU). */
export function resolveExtractionEngineOptions(options: ExtractionEngineOptions, backend: {onGpu: boolean}): ResolvedExtractionEngineOptions {
    const contextSize = positiveInteger("contextSize", options.contextSize ?? DEFAULT_CONTEXT_SIZE);
    const batchSize = positiveInteger("batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE);
    const contexts = positiveInteger("contexts", options.contexts ?? DEFAULT_ENGINE_CONTEXTS);
    const threads = positiveInteger("threads", options.threads ?? availableParallelism());
    return {
        modelPath: options.modelPath,
        contextSize,
        batchSize: Math.min(batchSize, contextSize),
        // on CPU the contexts share the cores; on a GPU the threads only feed it
        threads: backend.onGpu ? threads : Math.max(1, Math.floor(threads / contexts)),
        contexts,
        flashAttention: options.flashAttention ?? DEFAULT_NUMERICS.flashAttention,
        gpu: options.gpu ?? "auto",
        route: options.route ?? "auto",
        prefixReuse: prefixReuseOf(options.prefixReuse ?? DEFAULT_NUMERICS.prefixReuse),
        logger: options.logger
    };
}

function positiveInteger(name: string, value: number): number {
    if (!Number.isInteger(value) || value <= 0)
        throw new OrchardError("INVALID_ARGUMENT", `${name} must be a positive integer (got ${value})`);
    return value;
}

function prefixReuseOf(value: string): PrefixReuse {
    if (!(PREFIX_REUSE_MODES as readonly string[]).includes(value))
        throw new OrchardError("INVALID_ARGUMENT", `prefixReuse must be one of ${PREFIX_REUSE_MODES.join(", ")} (got ${value})`);
    return value as PrefixReuse;
}
