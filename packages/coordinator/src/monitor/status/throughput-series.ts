import type {WorkSample} from "@orchard/shared";
import {MAX_NAME_CHARS, overlapShare} from "@orchard/shared";

/** One completed shard, from a run's throughput stream. */
export interface ThroughputSample extends WorkSample {
    /** The stream entry id (`<ms>-<seq>`, Redis clock). */
    readonly id: string;
    readonly worker: string;
    readonly shard: number;
}

/** Tokens per second over time, per worker and in total, in equal buckets (what the dashboard draws). */
export interface ThroughputSeries {
    /** Start of the first bucket, ms (Redis clock). */
    readonly startMs: number;
    readonly bucketMs: number;
    /** Tokens per second of all workers, one value per bucket. */
    readonly total: readonly number[];
    readonly workers: readonly {readonly name: string; readonly tokensPerSecond: readonly number[]}[];
}

/** Bucket widths, in seconds, a chart's time axis reads well in. */
const NICE_BUCKETS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/** Entries of XRANGE on a throughput stream as samples; malformed entries (a worker name past MAX_NAME_CHARS included) are skipped. */
export function parseThroughputEntries(entries: readonly [id: string, fields: string[]][]): ThroughputSample[] {
    const samples: ThroughputSample[] = [];
    for (const [id, fields] of entries) {
        const values = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] as string, fields[i + 1] as string);
        const endMs = Number(id.split("-")[0]);
        const worker = values.get("w");
        const numbers = ["s", "d", "t", "e"].map((key) => Number(values.get(key)));
        if (worker === undefined || worker.length > MAX_NAME_CHARS || !Number.isFinite(endMs) || numbers.some((value) => !Number.isFinite(value) || value < 0)) continue;
        const [shard, documents, tokens, elapsedMs] = numbers as [number, number, number, number];
        samples.push({id, worker, shard, documents, tokens, elapsedMs, endMs});
    }
    return samples;
}

/**
 * Buckets samples into at most `maxBuckets` equal intervals over [fromMs, toMs], each sample's
 * tokens spread evenly over the time it took: a worker's line shows its speed while it worked and
 * 0 while it idled, without the spikes of crediting whole shards at their completion. The last
 * bucket may be shorter than the others (it ends at `toMs`); its values are per second of the time it covers.
 */
export function throughputSeries(samples: readonly ThroughputSample[], range: {fromMs: number; toMs: number; maxBuckets?: number}): ThroughputSeries {
    const maxBuckets = range.maxBuckets ?? 120;
    const span = Math.max(1, range.toMs - range.fromMs);
    const bucketS = NICE_BUCKETS_S.find((seconds) => seconds * 1000 * maxBuckets >= span) ?? Math.ceil(span / maxBuckets / 1000);
    const bucketMs = bucketS * 1000;
    const startMs = Math.floor(range.fromMs / bucketMs) * bucketMs;
    const count = Math.max(1, Math.ceil((range.toMs - startMs) / bucketMs));
    const perWorker = new Map<string, number[]>();
    for (const sample of samples) {
        let tokens = perWorker.get(sample.worker);
        if (tokens === undefined) perWorker.set(sample.worker, (tokens = new Array<number>(count).fill(0)));
        const begin = sample.endMs - sample.elapsedMs;
        const lastBucket = Math.min(count - 1, Math.max(0, Math.floor((sample.endMs - startMs) / bucketMs)));
        if (sample.elapsedMs <= 0) {
            tokens[lastBucket] = (tokens[lastBucket] as number) + sample.tokens;
            continue;
        }
        const first = Math.max(0, Math.floor((begin - startMs) / bucketMs));
        const last = Math.min(count - 1, Math.floor((sample.endMs - startMs) / bucketMs));
        for (let bucket = first; bucket <= last; bucket++) {
            const from = startMs + bucket * bucketMs;
            tokens[bucket] = (tokens[bucket] as number) + sample.tokens * overlapShare(sample, from, from + bucketMs);
        }
    }
    // the last bucket ends at toMs, usually part of the way through it (the current second, on a
    // live run): its tokens are divided by the time it covers, or the chart would drop at its right edge
    const lastBucketS = (Math.min(range.toMs, startMs + count * bucketMs) - (startMs + (count - 1) * bucketMs)) / 1000;
    const secondsOf = (bucket: number) => (bucket === count - 1 && lastBucketS > 0 ? lastBucketS : bucketS);
    const workers = [...perWorker.entries()].sort(([a], [b]) => a.localeCompare(b))
        .map(([name, tokens]) => ({name, tokensPerSecond: tokens.map((value, bucket) => round(value / secondsOf(bucket)))}));
    const total = Array.from({length: count}, (_, bucket) => round(workers.reduce((sum, worker) => sum + (worker.tokensPerSecond[bucket] as number), 0)));
    return {startMs, bucketMs, total, workers};
}

function round(value: number): number {
    return Math.round(value * 100) / 100;
}
