import {createHash} from "node:crypto";
import {OrchardError} from "../errors/orchard-error.ts";

/** Sampling of `orchard generate` (and, later, of the fleet's generation task). */
export interface GenerationSamplingOptions {
    /** Most tokens generated per document; a JSON completion cut here is a per-document failure. Default 512. */
    readonly maxTokens?: number;
    /** 0 is greedy (the seed then has no effect). Default 0.8 (llama.cpp's). */
    readonly temperature?: number;
    /** Nucleus sampling; 1 disables. Default 0.95. */
    readonly topP?: number;
    /** 0 disables. Default 40. */
    readonly topK?: number;
    /** 0 disables. Default 0.05. */
    readonly minP?: number;
    /** Repeat penalty over the last 64 tokens; 1 disables. Default 1. */
    readonly repetitionPenalty?: number;
    /** Subtracted per earlier occurrence of a token; 0 disables. Default 0. */
    readonly frequencyPenalty?: number;
    /** Subtracted once for any earlier occurrence of a token; 0 disables. Default 0. */
    readonly presencePenalty?: number;
    /** The run's seed; each document samples with documentSeed(seed, id). Default 0. */
    readonly seed?: number;
}

export type ResolvedGenerationSampling = {readonly [K in keyof GenerationSamplingOptions]-?: number};

export const DEFAULT_GENERATION_SAMPLING: ResolvedGenerationSampling = {
    maxTokens: 512, temperature: 0.8, topP: 0.95, topK: 40, minP: 0.05,
    repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0, seed: 0
};

/** Fills defaults and rejects values node-llama-cpp would misread (a negative top-k, a seed past 32 bits...). */
export function resolveGenerationSampling(options: GenerationSamplingOptions): ResolvedGenerationSampling {
    const resolved: {-readonly [K in keyof ResolvedGenerationSampling]: number} = {...DEFAULT_GENERATION_SAMPLING};
    for (const key of Object.keys(DEFAULT_GENERATION_SAMPLING) as (keyof ResolvedGenerationSampling)[])
        resolved[key] = options[key] ?? DEFAULT_GENERATION_SAMPLING[key];
    const check = (ok: boolean, flag: string, what: string, value: number) => {
        if (!ok || !Number.isFinite(value)) throw new OrchardError("INVALID_ARGUMENT", `--${flag} must be ${what} (got ${value})`);
    };
    check(Number.isInteger(resolved.maxTokens) && resolved.maxTokens > 0, "max-tokens", "a positive integer", resolved.maxTokens);
    check(resolved.temperature >= 0, "temperature", "0 or more", resolved.temperature);
    check(resolved.topP > 0 && resolved.topP <= 1, "top-p", "in (0, 1]", resolved.topP);
    check(Number.isInteger(resolved.topK) && resolved.topK >= 0, "top-k", "a non-negative integer", resolved.topK);
    check(resolved.minP >= 0 && resolved.minP <= 1, "min-p", "in [0, 1]", resolved.minP);
    check(resolved.repetitionPenalty > 0, "repetition-penalty", "positive (1 disables it)", resolved.repetitionPenalty);
    check(true, "frequency-penalty", "a number", resolved.frequencyPenalty);
    check(true, "presence-penalty", "a number", resolved.presencePenalty);
    check(Number.isSafeInteger(resolved.seed) && resolved.seed >= 0, "seed", "a non-negative integer", resolved.seed);
    return resolved;
}

/**
 * The seed a document is sampled with: the first 4 bytes (big-endian) of sha256("<run seed>\n<id>").
 * It depends on nothing but the run's seed and the document's id, so a document's completion does not
 * change with input order, resumption, retries, the worker that takes it or the shard it is in.
 */
export function documentSeed(runSeed: number, id: string): number {
    return createHash("sha256").update(`${runSeed}\n${id}`).digest().readUInt32BE(0);
}

/**
 * node-llama-cpp's sampling options for one completion with these settings and this seed: one
 * mapping for `orchard generate` and the playground's chat, so both sample the same way.
 */
export function completionSampling(sampling: ResolvedGenerationSampling, seed: number) {
    return {
        maxTokens: sampling.maxTokens,
        temperature: sampling.temperature,
        topP: sampling.topP,
        topK: sampling.topK,
        minP: sampling.minP,
        seed,
        repeatPenalty: sampling.repetitionPenalty === 1 && sampling.frequencyPenalty === 0 && sampling.presencePenalty === 0
            ? false as const
            : {penalty: sampling.repetitionPenalty, frequencyPenalty: sampling.frequencyPenalty, presencePenalty: sampling.presencePenalty}
    };
}
