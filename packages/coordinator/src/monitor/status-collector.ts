import {
    createLogger, DEFAULT_KEY_PREFIX, MAX_NAME_CHARS, DEFAULT_STATUS_RUN_LIMIT, FleetKeys, isoTimeSchema, MonitorKeys, OrchardError, RATE_MAX_WINDOW_MS, RUN_WORKER_COUNTERS,
    workerHeartbeatSchema, type FleetStatus, type Logger, type RunStatusReport, type RunWorkerCounter, type WorkerHeartbeat
} from "@orchard/shared";
import type {Redis} from "ioredis";
import {RunStore} from "../run/run-store.ts";
import {QueueRegistry, type QueueCounts} from "./queue-registry.ts";
import {buildRunStatus, workerIsRecent, workerStatusOf, type RunRecords, type RunStatusContext} from "./status/run-status-builder.ts";
import {parseThroughputEntries, type ThroughputSample} from "./status/throughput-series.ts";

export interface StatusCollectorOptions {
    /** A connection to the fleet's Redis (not closed by the collector). */
    readonly redis: Redis;
    /** Prefix of Orchard's keys. Default "orchard". */
    readonly keyPrefix?: string;
    /** A worker silent this long reads as lost, in ms. Default WORKER_LOST_AFTER_MS (30,000). */
    readonly lostAfterMs?: number;
    /** Queue handles to count jobs with (shared with bull-board); default: its own. */
    readonly queues?: QueueRegistry;
    /** Warns (once each) about records it leaves out because they fail their schema. Default: silent. */
    readonly logger?: Logger;
}

/** Distinct unreadable records warned about, at most (a dashboard reads the status every second). */
const MAX_WARNINGS_REMEMBERED = 1000;

/**
 * Reads the fleet's state from Redis (run records, worker heartbeats, per-run counters and
 * throughput streams, queue counts) into the `orchard status --json` schema. Read-only: it never
 * changes a run. Shared by `orchard status`, the live view of `orchard run`, the dashboard and /metrics.
 * Any machine with the Redis URL can write those records: one that fails its schema is left out
 * with a warning (a heartbeat, a refused document, a run in a listing) or shown as what it stands
 * for (a failed shard), never crashing the reader; asked for by id, an unreadable run is
 * RECORD_INVALID.
 */
export class StatusCollector {
    public readonly keyPrefix: string;
    readonly #redis: Redis;
    readonly #store: RunStore;
    readonly #keys: MonitorKeys;
    readonly #queues: QueueRegistry;
    readonly #ownQueues: boolean;
    readonly #lostAfterMs: number | undefined;
    readonly #log: Logger;
    readonly #warned = new Set<string>();

    public constructor(options: StatusCollectorOptions) {
        this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
        this.#redis = options.redis;
        this.#store = new RunStore(options.redis, new FleetKeys(this.keyPrefix));
        this.#keys = new MonitorKeys(this.keyPrefix);
        this.#ownQueues = options.queues === undefined;
        this.#queues = options.queues ?? new QueueRegistry(options.redis, this.keyPrefix);
        this.#lostAfterMs = options.lostAfterMs;
        this.#log = options.logger ?? createLogger({level: "silent"});
    }

    /** The Redis clock in ms (heartbeats and throughput entries are stamped with it). */
    public async nowMs(): Promise<number> {
        const [seconds, micros] = await this.#redis.time();
        return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    }

    /**
     * The fleet: one run (RUN_NOT_FOUND if unknown) or the `limit` most recent runs, and the
     * workers heard from in the last hour.
     */
    public async fleet(options: {runId?: string; limit?: number} = {}): Promise<FleetStatus> {
        const now = await this.nowMs();
        const heartbeats = await this.heartbeats();
        const runIds = options.runId !== undefined ? [options.runId] : await this.runIds(options.limit ?? DEFAULT_STATUS_RUN_LIMIT);
        const counts = new Map<string, Promise<QueueCounts>>();
        const runs: RunStatusReport[] = [];
        for (const runId of runIds) {
            let status: RunStatusReport | undefined;
            try {
                status = await this.#runStatus(runId, now, heartbeats, counts);
            } catch (error) {
                // one unreadable run must not hide the others
                if (options.runId !== undefined || !(error instanceof OrchardError && error.code === "RECORD_INVALID")) throw error;
                this.#warn(error, "left out of the status: its record is unreadable");
                continue;
            }
            if (status !== undefined) runs.push(status);
            else if (options.runId !== undefined) throw notFound(runId, this.keyPrefix);
        }
        const workers = [...heartbeats.values()].filter((heartbeat) => workerIsRecent(heartbeat, now, this.#lostAfterMs))
            .map((heartbeat) => workerStatusOf(heartbeat, now, this.#lostAfterMs)).sort((a, b) => a.name.localeCompare(b.name));
        return {v: 1, generatedAt: new Date(now).toISOString(), keyPrefix: this.keyPrefix, runs, workers};
    }

    /** One run's status; RUN_NOT_FOUND if unknown. `context`: what the caller knows beyond Redis (its local workers). */
    public async run(runId: string, context: RunStatusContext = {}): Promise<RunStatusReport> {
        const status = await this.#runStatus(runId, await this.nowMs(), await this.heartbeats(), new Map(), context);
        if (status === undefined) throw notFound(runId, this.keyPrefix);
        return status;
    }

    /** Run ids, newest first. */
    public async runIds(limit: number = DEFAULT_STATUS_RUN_LIMIT): Promise<string[]> {
        return this.#redis.zrevrange(new FleetKeys(this.keyPrefix).runs(), 0, Math.max(0, limit - 1));
    }

    /** The queue names of the newest runs (what bull-board shows). */
    public async queueNames(limit: number = 50): Promise<string[]> {
        const names = new Set<string>();
        for (const runId of await this.runIds(limit)) {
            const run = await this.#store.loadRun(runId).catch(() => undefined);
            if (run !== undefined) names.add(run.spec.queueName);
        }
        return [...names];
    }

    /** Every worker heartbeat on record (up to a day old), by name. */
    public async heartbeats(): Promise<Map<string, WorkerHeartbeat>> {
        const names = await this.#redis.zrange(this.#keys.workers(), 0, -1);
        const heartbeats = new Map<string, WorkerHeartbeat>();
        if (names.length === 0) return heartbeats;
        const values = await this.#redis.mget(...names.map((name) => this.#keys.worker(name)));
        for (const [i, value] of values.entries()) {
            if (value === null) continue;
            const parsed = safeJson(value);
            const heartbeat = workerHeartbeatSchema.safeParse(parsed);
            // a heartbeat of another Orchard version (or a forged one) is skipped rather than breaking the status
            if (heartbeat.success) heartbeats.set(heartbeat.data.name, heartbeat.data);
            else {
                const issues = heartbeat.error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join(".") || "(the record)"}: ${issue.message}`).join("; ");
                this.#warn(new OrchardError("RECORD_INVALID", `the heartbeat of worker "${(names[i] ?? "?").slice(0, 80)}" in Redis is invalid: ${issues}`), "worker left out of the status");
            }
        }
        return heartbeats;
    }

    /** Completed shards of a run's throughput stream after entry `afterId` (exclusive), oldest first. */
    public async throughputSamples(runId: string, options: {afterId?: string; sinceMs?: number} = {}): Promise<ThroughputSample[]> {
        const start = options.afterId !== undefined ? `(${options.afterId}` : options.sinceMs !== undefined ? String(Math.max(0, Math.floor(options.sinceMs))) : "-";
        const entries = await this.#redis.xrange(this.#keys.runThroughput(runId), start, "+");
        return parseThroughputEntries(entries);
    }

    public async close(): Promise<void> {
        if (this.#ownQueues) await this.#queues.close();
    }

    #warn(error: OrchardError, what: string): void {
        if (this.#warned.has(error.message) || this.#warned.size >= MAX_WARNINGS_REMEMBERED) return;
        this.#warned.add(error.message);
        this.#log.warn({code: error.code, err: error.message}, what);
    }

    async #runStatus(
        runId: string, now: number, heartbeats: ReadonlyMap<string, WorkerHeartbeat>, counts: Map<string, Promise<QueueCounts>>, context: RunStatusContext = {}
    ): Promise<RunStatusReport | undefined> {
        const run = await this.#store.loadRun(runId);
        if (run === undefined) return undefined;
        const fleetKeys = this.#store.keys;
        const [times, waiting, lock, counterFields] = await Promise.all([
            this.#redis.hmget(fleetKeys.run(runId), "updatedAt", "finishedAt"),
            this.#redis.hlen(fleetKeys.results(runId)),
            this.#redis.exists(fleetKeys.lock(runId)),
            this.#redis.hgetall(this.#keys.runWorkers(runId))
        ]);
        const queueName = run.spec.queueName;
        if (!counts.has(queueName)) counts.set(queueName, this.#queues.counts(queueName));
        const [failures, skipped, retrying, samples, queue, provenance, refusals] = await Promise.all([
            this.#store.failures(runId, (error) => this.#warn(error, "failed shard shown as RECORD_INVALID")),
            this.#store.skippedDocuments(runId, (error) => this.#warn(error, "refused document left out of the status")),
            this.#store.retrying(runId),
            this.throughputSamples(runId, {sinceMs: now - RATE_MAX_WINDOW_MS}),
            counts.get(queueName) as Promise<QueueCounts>,
            this.#store.provenance(runId, (error) => this.#warn(error, "provenance record left out of the status")),
            this.#store.refusals(runId)
        ]);
        const records: RunRecords = {
            spec: run.spec, state: run.state, updatedAt: isoTimeOrUndefined(times[0]), finishedAt: isoTimeOrUndefined(times[1]),
            waitingShards: waiting, coordinatorActive: lock === 1, failures, skipped, retrying, counters: parseCounters(counterFields), samples, queue,
            provenance, refusals
        };
        return buildRunStatus(records, heartbeats, now, this.#lostAfterMs, context);
    }
}

/** `documents:<worker>` ... fields into worker -> counters; a worker name past MAX_NAME_CHARS is left out, as its heartbeat would be. */
function parseCounters(fields: Record<string, string>): Map<string, {documents: number; tokens: number; shards: number; failures: number}> {
    const counters = new Map<string, {documents: number; tokens: number; shards: number; failures: number}>();
    for (const [field, value] of Object.entries(fields)) {
        const separator = field.indexOf(":");
        const counter = field.slice(0, separator) as RunWorkerCounter;
        if (separator < 0 || !RUN_WORKER_COUNTERS.includes(counter)) continue;
        const worker = field.slice(separator + 1);
        if (worker.length > MAX_NAME_CHARS) continue;
        let entry = counters.get(worker);
        if (entry === undefined) counters.set(worker, (entry = {documents: 0, tokens: 0, shards: 0, failures: 0}));
        const count = Number(value);
        entry[counter] = Number.isSafeInteger(count) && count >= 0 ? count : 0;
    }
    return counters;
}

/** An `updatedAt`/`finishedAt` field as written by the coordinator, or undefined (absent or not an ISO time). */
function isoTimeOrUndefined(value: string | null | undefined): string | undefined {
    return value !== null && value !== undefined && isoTimeSchema.safeParse(value).success ? value : undefined;
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function notFound(runId: string, prefix: string): OrchardError {
    return new OrchardError("RUN_NOT_FOUND", `no run "${runId}" in this Redis (key prefix "${prefix}"); check --redis, --redis-prefix and --state-dir`);
}
