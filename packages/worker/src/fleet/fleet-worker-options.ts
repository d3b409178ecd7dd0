import {hostname} from "node:os";
import {
    DEFAULT_KEY_PREFIX, DEFAULT_LOCK_DURATION_MS, DEFAULT_MAX_STALLED_COUNT, DEFAULT_STALLED_INTERVAL_MS, DEFAULT_WORKER_CONCURRENCY, DEFAULT_WORKER_SHUTDOWN_GRACE_MS, DEFAULT_WORKER_SHUTDOWN_MS,
    OrchardError, type Logger
} from "@orchard/shared";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";
import {ShardWakeLock} from "./shard-wake-lock.ts";
import {createShardEngine, type ShardEngineFactory} from "./shard-engine-factory.ts";

/** What a fleet worker reports about its shards (tests and benchmarks count these). */
export type ShardEvent =
    | {readonly type: "started"; readonly jobId: string; readonly runId: string; readonly shard: number; readonly documents: number}
    | {readonly type: "completed"; readonly jobId: string; readonly runId: string; readonly shard: number; readonly documents: number; readonly tokens: number; readonly elapsedMs: number}
    | {readonly type: "returned"; readonly jobId: string; readonly runId: string; readonly shard: number}
    | {readonly type: "failed"; readonly jobId: string; readonly runId: string; readonly shard: number; readonly error: string};

export interface FleetWorkerOptions {
    /** The GGUF model this worker holds; it takes only shards of runs created for this model. */
    readonly modelPath: string;
    /** The fleet's Redis. */
    readonly redisUrl: string;
    /** Prefix of Orchard's Redis keys. Default "orchard". */
    readonly keyPrefix?: string;
    /** Shown in logs and BullMQ. Default `<host>-<pid>`. */
    readonly name?: string;
    /**
     * Shards held at once; their documents share the engine's contexts, oldest shard first. Default 2:
     * the next shard is already at hand when the current one ends (its result written, the job
     * completed and the next fetched: a few round trips), and while its last documents leave contexts
     * free. More only makes shards wait longer on this worker, which holds up the in-order merge.
     */
    readonly concurrency?: number;
    /** Engine settings other than the model path (threads, contexts, context size, GPU...). */
    readonly engine?: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    /** Tests and benchmarks only: fake inference at this speed, under the simulated fingerprint. */
    readonly simulatedEngine?: {readonly tokensPerSecond: number};
    /** BullMQ lock of a shard in ms (renewed every half). Default 60,000. */
    readonly lockDurationMs?: number;
    /** How often this worker looks for stalled shards, in ms. Default 30,000. */
    readonly stalledIntervalMs?: number;
    /** Lock expiries a shard survives before it fails. Default 2. */
    readonly maxStalledCount?: number;
    /** On close, the current shard is finished within this many ms, or given back to the queue. Default 15,000. */
    readonly shutdownTimeoutMs?: number;
    /**
     * Past `shutdownTimeoutMs`, giving the shard back gets this many ms more; then the worker drops its
     * Redis connections and closes anyway (the shard's lock expires). Default 30,000.
     */
    readonly shutdownGraceMs?: number;
    /** Builds the engine from these options. Default createShardEngine (the model, or the simulated engine); tests wrap it. */
    readonly createEngine?: ShardEngineFactory;
    /** Start paused (the spare-machine policy does not allow work now), with this reason; resume() starts taking shards. */
    readonly pausedReason?: string;
    /** Close the engine (free the model's memory) while paused, and load it again on resume. Default false. */
    readonly unloadWhenPaused?: boolean;
    /** Keeps the machine awake while a shard runs. Default: `caffeinate -i` on macOS, nothing elsewhere. */
    readonly wakeLock?: ShardWakeLock;
    readonly logger?: Logger;
    readonly onShard?: (event: ShardEvent) => void;
}

export interface ResolvedFleetWorkerOptions {
    readonly modelPath: string;
    readonly redisUrl: string;
    readonly keyPrefix: string;
    readonly name: string;
    readonly concurrency: number;
    readonly engine: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    readonly simulatedEngine: {readonly tokensPerSecond: number} | undefined;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly maxStalledCount: number;
    readonly shutdownTimeoutMs: number;
    readonly shutdownGraceMs: number;
    readonly createEngine: ShardEngineFactory;
    readonly pausedReason: string | undefined;
    readonly unloadWhenPaused: boolean;
    readonly wakeLock: ShardWakeLock;
    readonly logger: Logger | undefined;
    readonly onShard: (event: ShardEvent) => void;
}

export function resolveFleetWorkerOptions(options: FleetWorkerOptions): ResolvedFleetWorkerOptions {
    const lockDurationMs = positive("--lock-duration-ms", options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS);
    if (options.simulatedEngine !== undefined && !(options.simulatedEngine.tokensPerSecond > 0))
        throw new OrchardError("INVALID_ARGUMENT", `--simulate-tokens-per-second must be positive (got ${options.simulatedEngine.tokensPerSecond})`);
    return {
        modelPath: options.modelPath,
        redisUrl: options.redisUrl,
        keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
        name: options.name ?? `${hostname()}-${process.pid}`,
        concurrency: positive("--concurrency", options.concurrency ?? DEFAULT_WORKER_CONCURRENCY),
        engine: options.engine ?? {},
        simulatedEngine: options.simulatedEngine,
        lockDurationMs,
        stalledIntervalMs: positive("--stalled-interval-ms", options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS),
        maxStalledCount: positive("maxStalledCount", options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT),
        shutdownTimeoutMs: positive("--shutdown-timeout-ms", options.shutdownTimeoutMs ?? DEFAULT_WORKER_SHUTDOWN_MS),
        shutdownGraceMs: positive("--shutdown-grace-ms", options.shutdownGraceMs ?? DEFAULT_WORKER_SHUTDOWN_GRACE_MS),
        createEngine: options.createEngine ?? createShardEngine,
        pausedReason: options.pausedReason,
        unloadWhenPaused: options.unloadWhenPaused ?? false,
        wakeLock: options.wakeLock ?? new ShardWakeLock({logger: options.logger}),
        logger: options.logger,
        onShard: options.onShard ?? (() => undefined)
    };
}

function positive(name: string, value: number): number {
    if (!Number.isInteger(value) || value <= 0) throw new OrchardError("INVALID_ARGUMENT", `${name} must be a positive integer (got ${value})`);
    return value;
}

