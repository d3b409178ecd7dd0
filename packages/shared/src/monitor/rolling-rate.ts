import {RATE_MAX_WINDOW_MS, RATE_MIN_SAMPLES, RATE_WINDOW_MS} from "./monitor-defaults.ts";

/** Work done over [endMs - elapsedMs, endMs]: one shard's tokens and documents. */
export interface WorkSample {
    readonly endMs: number;
    readonly elapsedMs: number;
    readonly tokens: number;
    readonly documents: number;
}

export interface RollingRateOptions {
    /** The window looks back at least this far, in ms. Default RATE_WINDOW_MS (60 s). */
    readonly windowMs?: number;
    /** ...and far enough to hold the latest this-many samples (slow shards never read as 0). Default 3. */
    readonly minSamples?: number;
    /** ...but never further than this, in ms. Default 15 min. */
    readonly maxWindowMs?: number;
    /** ...nor before work could have started (the worker's start, the run's first shard), in ms. */
    readonly sinceMs?: number;
}

export interface RollingRate {
    readonly tokensPerSecond: number;
    readonly documentsPerSecond: number;
    /** The window the rates are averaged over, in seconds. */
    readonly windowSeconds: number;
}

/**
 * Tokens and documents per second over a trailing window of wall time, each sample's work spread
 * evenly over its duration (a shard that straddles the window's start counts in proportion), so
 * a rate is smooth even when shards complete seconds or minutes apart. Idle time counts: a worker
 * that stopped taking shards decays to 0.
 */
export function rollingRate(samples: readonly WorkSample[], nowMs: number, options: RollingRateOptions = {}): RollingRate {
    const windowMs = options.windowMs ?? RATE_WINDOW_MS;
    const minSamples = options.minSamples ?? RATE_MIN_SAMPLES;
    let start = nowMs - windowMs;
    if (minSamples > 0 && samples.length > 0) {
        const latest = [...samples].sort((a, b) => b.endMs - a.endMs);
        const oldest = latest[Math.min(minSamples, latest.length) - 1] as WorkSample;
        start = Math.min(start, oldest.endMs - oldest.elapsedMs);
    }
    start = Math.max(start, nowMs - (options.maxWindowMs ?? RATE_MAX_WINDOW_MS));
    if (options.sinceMs !== undefined) start = Math.max(start, options.sinceMs);
    const span = nowMs - start;
    if (span <= 0) return {tokensPerSecond: 0, documentsPerSecond: 0, windowSeconds: 0};
    let tokens = 0;
    let documents = 0;
    for (const sample of samples) {
        const share = overlapShare(sample, start, nowMs);
        tokens += sample.tokens * share;
        documents += sample.documents * share;
    }
    return {tokensPerSecond: tokens / (span / 1000), documentsPerSecond: documents / (span / 1000), windowSeconds: span / 1000};
}

/** Tokens per second of busy time over the given samples (the engine's speed, idle time left out); undefined without samples. */
export function busyTokensPerSecond(samples: readonly WorkSample[]): number | undefined {
    const elapsed = samples.reduce((sum, sample) => sum + sample.elapsedMs, 0);
    if (elapsed <= 0) return undefined;
    return samples.reduce((sum, sample) => sum + sample.tokens, 0) / (elapsed / 1000);
}

/** The share of a sample's work that falls within (from, to]. */
export function overlapShare(sample: WorkSample, from: number, to: number): number {
    const begin = sample.endMs - sample.elapsedMs;
    if (sample.elapsedMs <= 0) return sample.endMs > from && sample.endMs <= to ? 1 : 0;
    const overlap = Math.min(sample.endMs, to) - Math.max(begin, from);
    return overlap <= 0 ? 0 : overlap / sample.elapsedMs;
}
