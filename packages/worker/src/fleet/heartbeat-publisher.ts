import {cpus, freemem, hostname, platform, release, arch, totalmem} from "node:os";
import {basename} from "node:path";
import {
    busyTokensPerSecond, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS, MonitorKeys, RATE_MAX_WINDOW_MS, rollingRate, runWorkerField,
    THROUGHPUT_STREAM_MAX_LENGTH, type HeartbeatShard, type Logger, type WorkerHeartbeat, type WorkSample
} from "@orchard/shared";
import type {Redis} from "ioredis";
import type {ShardEvent} from "./fleet-worker-options.ts";

export interface HeartbeatPublisherOptions {
    readonly redis: Redis;
    readonly keyPrefix: string;
    /** The worker's name (its key in Redis). */
    readonly name: string;
    readonly modelPath: string;
    /** The fingerprint the worker serves (the model's, or its simulated twin). */
    readonly fingerprint: string;
    readonly queueName: string;
    readonly concurrency: number;
    readonly engine: {
        readonly kind: "llama" | "simulated";
        /** "metal", "cuda", "vulkan", "cpu" (what node-llama-cpp picked) or "simulated". */
        readonly backend: string;
        readonly contexts: number;
        /** The engine's prefix-reuse counts now (undefined: the engine does not count them). */
        readonly prefixReuse?: () => {readonly reused: number; readonly full: number} | undefined;
    };
    /** Milliseconds between heartbeats. Default HEARTBEAT_INTERVAL_MS (5,000). */
    readonly intervalMs?: number;
    readonly logger?: Logger;
}

/** A pause reason longer than this is cut (the heartbeat schema's bound). */
const MAX_PAUSED_REASON_CHARS = 200;
/** Busy-time speed is averaged over this many of the latest shards. */
const ENGINE_RATE_SHARDS = 10;
/** The last heartbeat at close gets this long; a worker never waits on monitoring to exit. */
const FINAL_BEAT_TIMEOUT_MS = 1_000;
/** Failed writes are logged at most this often. */
const WARN_EVERY_MS = 60_000;

/**
 * A worker's voice in the monitoring: every few seconds (and at once when a shard starts or ends)
 * it writes the machine's facts, what it is doing and its rolling throughput to Redis; when a shard
 * completes it adds to the run's per-worker counters and throughput stream (MonitorKeys). Nothing
 * here may slow down or fail the worker: writes are fire-and-forget, coalesced, and errors logged.
 */
export class HeartbeatPublisher {
    readonly #options: HeartbeatPublisherOptions;
    readonly #keys: MonitorKeys;
    readonly #intervalMs: number;
    readonly #log: Logger | undefined;
    readonly #startedAt = Date.now();
    readonly #current = new Map<string, HeartbeatShard>();
    #samples: WorkSample[] = [];
    #totals = {shards: 0, documents: 0, tokens: 0, failures: 0};
    #state: WorkerHeartbeat["state"] = "idle";
    #paused: WorkerHeartbeat["paused"];
    /** Redis clock minus this machine's, in ms, from the last TIME. */
    #clockOffsetMs = 0;
    #timer: NodeJS.Timeout | undefined;
    #inFlight: Promise<void> | undefined;
    #again = false;
    #closed = false;
    #lastWarning = 0;

    private constructor(options: HeartbeatPublisherOptions) {
        this.#options = options;
        this.#keys = new MonitorKeys(options.keyPrefix);
        this.#intervalMs = options.intervalMs ?? HEARTBEAT_INTERVAL_MS;
        this.#log = options.logger?.child({component: "heartbeat"});
    }

    /** Publishes a first heartbeat now, then every `intervalMs`. */
    public static start(options: HeartbeatPublisherOptions): HeartbeatPublisher {
        const publisher = new HeartbeatPublisher(options);
        publisher.#timer = setInterval(() => publisher.beat(), publisher.#intervalMs);
        publisher.#timer.unref();
        publisher.beat();
        return publisher;
    }

    /** Takes a worker's shard event into account (pass it FleetWorker's onShard events). */
    public onShard(event: ShardEvent): void {
        if (this.#closed) return;
        if (event.type === "started") {
            this.#current.set(event.jobId, {runId: event.runId, shard: event.shard, jobId: event.jobId, documents: event.documents, startedAtMs: Date.now() + this.#clockOffsetMs});
        } else {
            this.#current.delete(event.jobId);
        }
        if (event.type === "completed") {
            this.#totals = {
                ...this.#totals, shards: this.#totals.shards + 1, documents: this.#totals.documents + event.documents, tokens: this.#totals.tokens + event.tokens
            };
            const now = Date.now();
            this.#samples.push({endMs: now, elapsedMs: event.elapsedMs, tokens: event.tokens, documents: event.documents});
            this.#samples = this.#samples.filter((sample) => now - sample.endMs <= RATE_MAX_WINDOW_MS);
            this.#recordCompletion(event);
        } else if (event.type === "failed") {
            this.#totals = {...this.#totals, failures: this.#totals.failures + 1};
            this.#write(this.#options.redis.hincrby(this.#keys.runWorkers(event.runId), runWorkerField("failures", this.#options.name), 1));
        }
        if (this.#state !== "stopping") this.#state = this.#current.size > 0 ? "busy" : "idle";
        this.beat();
    }

    /** The worker takes no shards (spare-machine policy) for this reason, or works again (undefined). */
    public setPaused(reason: string | undefined): void {
        if (this.#closed) return;
        // the schema bounds a reason to 200 characters (a long --schedule is quoted in it)
        this.#paused = reason === undefined ? undefined : {reason: reason.slice(0, MAX_PAUSED_REASON_CHARS), sinceMs: Date.now() + this.#clockOffsetMs};
        this.beat();
    }

    /** The worker is shutting down (finishing or returning its shards). */
    public markStopping(): void {
        if (this.#closed) return;
        this.#state = "stopping";
        this.beat();
    }

    /** Publishes now (coalesced with a write in flight). */
    public beat(): void {
        if (this.#inFlight !== undefined) {
            this.#again = true;
            return;
        }
        this.#inFlight = this.#publish().finally(() => {
            this.#inFlight = undefined;
            if (this.#again && !this.#closed) {
                this.#again = false;
                this.beat();
            }
        });
    }

    /** Stops beating and says "stopped" (so the worker reads as stopped, not lost). Idempotent. */
    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        clearInterval(this.#timer);
        this.#state = "stopped";
        this.#current.clear();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
            (this.#inFlight ?? Promise.resolve()).then(() => this.#publish()),
            new Promise((resolve) => (timer = setTimeout(resolve, FINAL_BEAT_TIMEOUT_MS)))
        ]);
        clearTimeout(timer);
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    /** The heartbeat as it would be published now. */
    public snapshot(): WorkerHeartbeat {
        const options = this.#options;
        const now = Date.now();
        const rate = rollingRate(this.#samples, now, {sinceMs: this.#startedAt});
        const cpuList = cpus();
        const prefixReuse = options.engine.prefixReuse?.();
        return {
            v: 1,
            name: options.name,
            state: this.#state,
            host: hostname(),
            pid: process.pid,
            os: {platform: platform(), release: release(), arch: arch()},
            cpu: {model: cpuList[0]?.model.trim() ?? "unknown", cores: cpuList.length},
            memory: {totalBytes: totalmem(), freeBytes: freemem(), processRssBytes: process.memoryUsage.rss()},
            engine: {
                kind: options.engine.kind, backend: options.engine.backend, contexts: options.engine.contexts,
                // undefined leaves the optional field out of the JSON
                prefixReuse: prefixReuse === undefined ? undefined : {reused: prefixReuse.reused, full: prefixReuse.full}
            },
            model: {file: basename(options.modelPath), fingerprint: options.fingerprint, queue: options.queueName},
            concurrency: options.concurrency,
            intervalMs: this.#intervalMs,
            startedAtMs: this.#startedAt + this.#clockOffsetMs,
            atMs: now + this.#clockOffsetMs,
            current: [...this.#current.values()],
            totals: {...this.#totals},
            throughput: {tokensPerSecond: rate.tokensPerSecond, documentsPerSecond: rate.documentsPerSecond, windowSeconds: rate.windowSeconds},
            engineTokensPerSecond: busyTokensPerSecond(this.#samples.slice(-ENGINE_RATE_SHARDS)) ?? null,
            ...(this.#paused === undefined || this.#state === "stopped" ? {} : {paused: this.#paused})
        };
    }

    async #publish(): Promise<void> {
        const redis = this.#options.redis;
        try {
            // stamp with the Redis clock: Macs whose clocks drift still agree on "last heartbeat 3 s ago"
            const before = Date.now();
            const [seconds, micros] = await redis.time();
            this.#clockOffsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Math.round((before + Date.now()) / 2);
            const heartbeat = this.snapshot();
            await redis.multi()
                .set(this.#keys.worker(this.#options.name), JSON.stringify(heartbeat), "PX", HEARTBEAT_TTL_MS)
                .zadd(this.#keys.workers(), heartbeat.atMs, this.#options.name)
                .zremrangebyscore(this.#keys.workers(), "-inf", heartbeat.atMs - HEARTBEAT_TTL_MS)
                .exec();
        } catch (error) {
            this.#warn(error);
        }
    }

    #recordCompletion(event: Extract<ShardEvent, {type: "completed"}>): void {
        const name = this.#options.name;
        const runWorkers = this.#keys.runWorkers(event.runId);
        this.#write(this.#options.redis.multi()
            .hincrby(runWorkers, runWorkerField("documents", name), event.documents)
            .hincrby(runWorkers, runWorkerField("tokens", name), event.tokens)
            .hincrby(runWorkers, runWorkerField("shards", name), 1)
            .xadd(this.#keys.runThroughput(event.runId), "MAXLEN", "~", THROUGHPUT_STREAM_MAX_LENGTH, "*",
                "w", name, "s", String(event.shard), "d", String(event.documents), "t", String(event.tokens), "e", String(Math.round(event.elapsedMs)))
            .exec());
    }

    #write(pending: Promise<unknown>): void {
        pending.catch((error: unknown) => this.#warn(error));
    }

    #warn(error: unknown): void {
        if (Date.now() - this.#lastWarning < WARN_EVERY_MS) return;
        this.#lastWarning = Date.now();
        this.#log?.warn({err: (error as Error).message ?? String(error)}, "could not publish monitoring data (the worker goes on)");
    }
}
