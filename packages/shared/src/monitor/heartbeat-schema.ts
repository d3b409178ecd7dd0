import {z} from "zod";
import {nameSchema, timeMsSchema} from "../fleet/fleet-schemas.ts";

/**
 * What a worker publishes about itself every few seconds (`MonitorKeys.worker`), read back by
 * `orchard status`, the dashboard and /metrics. Times are milliseconds of the Redis clock, so
 * Macs whose clocks disagree still compare. Bounded like every record read back (see fleet-schemas):
 * a heartbeat is written by whoever holds the Redis URL, and read on the operator's machine.
 */

const count = z.number().int().nonnegative();
/** A worker beats at least hourly: a longer interval would keep a dead worker from ever reading as lost. */
const MAX_INTERVAL_MS = 3_600_000;
/** Shards one worker may say it holds. */
const MAX_CURRENT_SHARDS = 1024;

/** A shard a worker is processing. */
export const heartbeatShardSchema = z.object({
    runId: nameSchema,
    shard: count,
    jobId: nameSchema,
    documents: count,
    /** When the worker took it (ms, Redis clock). */
    startedAtMs: timeMsSchema
});
export type HeartbeatShard = z.infer<typeof heartbeatShardSchema>;

/** "busy": processing shards; "idle": waiting for one; "stopping": finishing before exit; "stopped": exited cleanly. */
export const HEARTBEAT_STATES = ["idle", "busy", "stopping", "stopped"] as const;

export const workerHeartbeatSchema = z.object({
    v: z.literal(1),
    name: nameSchema,
    state: z.enum(HEARTBEAT_STATES),
    host: nameSchema,
    pid: z.number().int().positive(),
    os: z.object({platform: nameSchema, release: nameSchema, arch: nameSchema}),
    /** CPU model ("Apple M2 Ultra") and logical cores. */
    cpu: z.object({model: nameSchema, cores: count}),
    memory: z.object({totalBytes: count, freeBytes: count, processRssBytes: count}),
    engine: z.object({
        kind: z.enum(["llama", "simulated"]),
        /** The backend node-llama-cpp picked: "metal", "cuda", "vulkan", "cpu"; "simulated" for the fake engine. */
        backend: nameSchema,
        contexts: count,
        /**
         * Documents since the engine loaded whose prompt prefix came from a context's cache, and
         * those evaluated in full (--prefix-reuse). Optional: absent for the simulated engine and in
         * older workers' heartbeats.
         */
        prefixReuse: z.object({reused: count, full: count}).optional()
    }),
    model: z.object({file: nameSchema, fingerprint: nameSchema, queue: nameSchema}),
    concurrency: count,
    /** How often this worker beats, in ms (a reader declares it lost after several missed beats). */
    intervalMs: z.number().positive().max(MAX_INTERVAL_MS),
    startedAtMs: timeMsSchema,
    /** When this heartbeat was written (ms, Redis clock). */
    atMs: timeMsSchema,
    current: z.array(heartbeatShardSchema).max(MAX_CURRENT_SHARDS),
    /** Since the worker started. `failures`: shard attempts that threw. */
    totals: z.object({shards: count, documents: count, tokens: count, failures: count}),
    /** Over the last minute (longer when shards are slow), idle time included. */
    throughput: z.object({tokensPerSecond: z.number().nonnegative(), documentsPerSecond: z.number().nonnegative(), windowSeconds: z.number().nonnegative()}),
    /** Tokens per second of busy time over the last shards: the engine's speed; null before the first shard. */
    engineTokensPerSecond: z.number().nonnegative().nullable(),
    /**
     * Present while the worker takes no shards because its spare-machine policy says so ("user
     * active", "outside 22:00-07:00", "on battery"). Optional: heartbeats of older workers lack it,
     * and older readers ignore it (zod drops unknown keys).
     */
    paused: z.object({reason: z.string().min(1).max(200), sinceMs: timeMsSchema}).optional()
});
export type WorkerHeartbeat = z.infer<typeof workerHeartbeatSchema>;
