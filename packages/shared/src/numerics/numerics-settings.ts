import {z} from "zod";
import {OrchardError} from "../errors/orchard-error.ts";

/**
 * Every engine setting that changes the bits of a document's result, fixed when a run is created
 * (`RunSpec.numerics`), carried by each shard job, and applied by every worker that computes the
 * run's shards (it recreates its engine when a run needs other settings). Measured on the project:
 * `--batch-size` 64 vs 512 moved attributes by up to 5.6e-2 on the 32-layer MoE bench model and
 * changed the tiny model's output bytes; the three-pass route runs other llama.cpp kernels than the
 * one-pass route (FACTS.md, "Determinism").
 *
 * Not here, because they change no bits or cannot be pinned: threads and contexts (ggml splits rows,
 * not sums, across threads; each document has its own context), the micro-batch (node-llama-cpp sets
 * n_ubatch = n_batch), the KV cache type (not configurable: F16), and the machine itself (backend,
 * chip, llama.cpp build): those are recorded per shard as provenance instead.
 *
 * Adding a setting (as prefix reuse was): a field in `numericsSettingsSchema` (optional,
 * so that older runs still parse), its value for runs made before it in `LEGACY_NUMERICS`, its
 * default and check in `resolveNumericsSettings` (and `NumericsOptions`), its label in
 * `describeNumerics`; then the worker maps it onto its engine in `numericsEngineOptions`
 * (packages/worker/src/fleet/engine-switch.ts) and the engine reports it back in
 * `ShardEngine.numerics`.
 */

/** Largest decode batch a run may pin, in tokens (llama.cpp cuts a batch to the context anyway). */
export const MAX_NUMERICS_BATCH_SIZE = 65_536;
/** Largest context a run may pin, in tokens (Mixtral's 32k training context, with room). */
export const MAX_NUMERICS_CONTEXT_SIZE = 1_048_576;
/** The routes a run pins: "auto" is a worker's fallback, whose numbers differ, so a run never pins it. */
export const PINNED_ENGINE_ROUTES = ["one-pass", "three-pass"] as const;
export type PinnedEngineRoute = (typeof PINNED_ENGINE_ROUTES)[number];
/** Prefix reuse (issue 11): "auto" evaluates a prompt's shared prefix once per context, "off" every prompt in full. */
export const PREFIX_REUSE_MODES = ["auto", "off"] as const;
export type PrefixReuse = (typeof PREFIX_REUSE_MODES)[number];

export const numericsSettingsSchema = z.object({
    /** Tokens per llama.cpp decode (n_batch = n_ubatch), at most `contextSize`. */
    batchSize: z.number().int().min(1).max(MAX_NUMERICS_BATCH_SIZE),
    /** How logits and hidden states are computed (ExtractionEngine's routes). */
    engineRoute: z.enum(PINNED_ENGINE_ROUTES),
    /** llama.cpp flash attention. */
    flashAttention: z.boolean(),
    /** Tokens per engine context (the run's prompt limit: `RunSpec.contextSize`). */
    contextSize: z.number().int().min(1).max(MAX_NUMERICS_CONTEXT_SIZE),
    /**
     * Prefix reuse: splitting a prompt into two decodes moved attributes by up to 7.8e-3 on the bench
     * model. Runs recorded before it existed evaluated every prompt in full: "off".
     */
    prefixReuse: z.enum(PREFIX_REUSE_MODES).default("off")
});
export type NumericsSettings = z.infer<typeof numericsSettingsSchema>;

/** Defaults of a new run, equal to `orchard extract`'s so that both compute the same bits. */
export const DEFAULT_NUMERICS = {batchSize: 512, engineRoute: "one-pass", flashAttention: true, prefixReuse: "auto"} as const satisfies Omit<NumericsSettings, "contextSize">;

/**
 * What a run made before the settings were recorded is computed with from now on: today's defaults
 * (what a worker started without engine flags used for it). Its earlier shards may have been
 * computed otherwise; nobody recorded how.
 */
export const LEGACY_NUMERICS = {...DEFAULT_NUMERICS, prefixReuse: "off"} as const satisfies Omit<NumericsSettings, "contextSize">;

/** The settings a user asks for (flags); undefined fields take DEFAULT_NUMERICS. */
export interface NumericsOptions {
    /** Tokens per decode batch. Default 512; cut to the context size. */
    readonly batchSize?: number;
    /** "one-pass", "three-pass", or "auto" (= "one-pass" for a run: a worker that cannot do it leaves the run's shards alone). Default "one-pass". */
    readonly engineRoute?: string;
    /** Default true. */
    readonly flashAttention?: boolean;
    /** "auto" or "off". Default "auto". */
    readonly prefixReuse?: string;
}

/** The settings of a run whose prompt limit is `contextSize`, checked (INVALID_ARGUMENT naming the flag). */
export function resolveNumericsSettings(options: NumericsOptions, contextSize: number): NumericsSettings {
    const batchSize = options.batchSize ?? DEFAULT_NUMERICS.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_NUMERICS_BATCH_SIZE)
        throw new OrchardError("INVALID_ARGUMENT", `--batch-size must be an integer from 1 to ${MAX_NUMERICS_BATCH_SIZE} (got ${batchSize})`);
    const route = options.engineRoute ?? DEFAULT_NUMERICS.engineRoute;
    if (route !== "auto" && !(PINNED_ENGINE_ROUTES as readonly string[]).includes(route))
        throw new OrchardError("INVALID_ARGUMENT", `--engine-route must be one-pass, three-pass or auto (got ${JSON.stringify(route)})`);
    const prefixReuse = options.prefixReuse ?? DEFAULT_NUMERICS.prefixReuse;
    if (!(PREFIX_REUSE_MODES as readonly string[]).includes(prefixReuse))
        throw new OrchardError("INVALID_ARGUMENT", `--prefix-reuse must be auto or off (got ${JSON.stringify(prefixReuse)})`);
    if (!Number.isInteger(contextSize) || contextSize < 1 || contextSize > MAX_NUMERICS_CONTEXT_SIZE)
        throw new OrchardError("INVALID_ARGUMENT", `--context-size must be an integer from 1 to ${MAX_NUMERICS_CONTEXT_SIZE} (got ${contextSize})`);
    return {
        // as the engine resolves it: a batch larger than the context is the context
        batchSize: Math.min(batchSize, contextSize),
        engineRoute: route === "auto" ? "one-pass" : route as PinnedEngineRoute,
        flashAttention: options.flashAttention ?? DEFAULT_NUMERICS.flashAttention,
        contextSize,
        prefixReuse: prefixReuse as PrefixReuse
    };
}

/** A run's settings: recorded ones, or LEGACY_NUMERICS with its context size for a run made before they were. */
export function runNumericsOf(spec: {readonly numerics?: NumericsSettings | undefined; readonly contextSize: number}): NumericsSettings {
    return spec.numerics ?? {...LEGACY_NUMERICS, batchSize: Math.min(LEGACY_NUMERICS.batchSize, spec.contextSize), contextSize: spec.contextSize};
}

/** The first field in which two settings differ, or undefined when they compute the same bits. */
export function numericsDifference(a: NumericsSettings, b: NumericsSettings): keyof NumericsSettings | undefined {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof NumericsSettings>;
    for (const key of keys) if (a[key] !== b[key]) return key;
    return undefined;
}

/** One line for people: "batch 512, one-pass, flash attention on, context 4096, prefix reuse auto". */
export function describeNumerics(numerics: Omit<NumericsSettings, "engineRoute" | "prefixReuse"> & {readonly engineRoute: string; readonly prefixReuse?: string}): string {
    // a status made before prefix reuse existed carries none: nothing to say about it
    return `batch ${numerics.batchSize}, ${numerics.engineRoute}, flash attention ${numerics.flashAttention ? "on" : "off"}, context ${numerics.contextSize}` +
        (numerics.prefixReuse === undefined ? "" : `, prefix reuse ${numerics.prefixReuse}`);
}

/** The `orchard extract` flags that compute a document exactly as a run with these settings does. */
export function numericsExtractFlags(numerics: NumericsSettings): string[] {
    return [
        "--batch-size", String(numerics.batchSize), "--engine-route", numerics.engineRoute,
        numerics.flashAttention ? "--flash-attention" : "--no-flash-attention", "--context-size", String(numerics.contextSize),
        "--prefix-reuse", numerics.prefixReuse
    ];
}
