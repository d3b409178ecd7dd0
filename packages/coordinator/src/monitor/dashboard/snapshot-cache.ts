import type {FleetStatus, RunStatusReport} from "@orchard/shared";
import {THROUGHPUT_STREAM_MAX_LENGTH} from "@orchard/shared";
import type {StatusCollector} from "../status-collector.ts";
import {throughputSeries, type ThroughputSample, type ThroughputSeries} from "../status/throughput-series.ts";

/** Runs whose throughput history is kept in memory at most (the least recently viewed go first). */
const MAX_HISTORIES = 20;

/**
 * What the dashboard's live streams and /metrics read, fetched once per `ttlMs` whatever the
 * number of open pages: every client of a run shares one read of Redis per refresh.
 */
export class SnapshotCache {
    readonly #collector: StatusCollector;
    readonly #ttlMs: number;
    readonly #entries = new Map<string, {at: number; value: Promise<unknown>}>();
    readonly #histories = new Map<string, {samples: ThroughputSample[]; lastId: string | undefined; fetching: Promise<void> | undefined}>();

    public constructor(collector: StatusCollector, ttlMs: number) {
        this.#collector = collector;
        this.#ttlMs = ttlMs;
    }

    public run(runId: string): Promise<RunStatusReport> {
        return this.#cached(`run:${runId}`, () => this.#collector.run(runId));
    }

    /** The fleet with its `limit` latest runs, or with the one run `runId`. */
    public fleet(limit: number, runId?: string): Promise<FleetStatus> {
        return runId === undefined
            ? this.#cached(`fleet:${limit}`, () => this.#collector.fleet({limit}))
            : this.#cached(`fleet-run:${runId}`, () => this.#collector.fleet({runId}));
    }

    /** The run's tokens per second over its whole history (what the stream still holds), per worker and in total. */
    public async throughput(run: RunStatusReport): Promise<ThroughputSeries & {runId: string}> {
        let history = this.#histories.get(run.runId);
        if (history === undefined) {
            history = {samples: [], lastId: undefined, fetching: undefined};
            this.#histories.set(run.runId, history);
            while (this.#histories.size > MAX_HISTORIES) this.#histories.delete(this.#histories.keys().next().value as string);
        }
        const entry = history;
        // concurrent pages share one incremental read
        entry.fetching ??= (async () => {
            const fresh = await this.#collector.throughputSamples(run.runId, entry.lastId === undefined ? {} : {afterId: entry.lastId});
            if (fresh.length > 0) {
                entry.samples.push(...fresh);
                entry.lastId = fresh.at(-1)?.id;
                if (entry.samples.length > THROUGHPUT_STREAM_MAX_LENGTH) entry.samples.splice(0, entry.samples.length - THROUGHPUT_STREAM_MAX_LENGTH);
            }
        })().finally(() => (entry.fetching = undefined));
        await entry.fetching;
        const now = await this.#collector.nowMs();
        // up to the latest completion: shards in progress are not counted yet, so "now" would always read as a drop
        const toMs = entry.samples.at(-1)?.endMs ?? now;
        const starts = entry.samples.map((sample) => sample.endMs - sample.elapsedMs);
        // at least a minute (not before the run began), so a young run's chart is not two points wide
        const fromMs = Math.min(...starts, Math.max(Date.parse(run.createdAt), toMs - 60_000), toMs - 1000);
        return {runId: run.runId, ...throughputSeries(entry.samples, {fromMs, toMs})};
    }

    #cached<T>(key: string, read: () => Promise<T>): Promise<T> {
        const now = Date.now();
        const hit = this.#entries.get(key);
        if (hit !== undefined && now - hit.at < this.#ttlMs) return hit.value as Promise<T>;
        const value = read();
        this.#entries.set(key, {at: now, value});
        // a failed read is not kept: the next caller tries again
        value.catch(() => this.#entries.delete(key));
        if (this.#entries.size > 200) this.#entries.clear();
        return value;
    }
}
