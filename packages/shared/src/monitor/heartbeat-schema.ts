import {z} from "zod";

/**
 * What a worker publishes about itself every few seconds (`MonitorKeys.worker`), read back by
 * `orchard status`, the dashboard and /metrics. Times are milliseconds of the Redis clock, so
 * Macs whose clocks disagree still compare.
 */

const count = z.number().int().nonnegative();

/** A shard a worker is processing. */
export const heartbeatShardSchema = z.object({
    runId: z.string(),
    shard: count,
    jobId: z.string(),
    documents: count,
    /** When the worker took it (ms, Redis clock). */
    startedAtMs: z.number()
});
export type HeartbeatShard = z.infer<typeof heartbeatShardSchema>;

/** "busy": processing shards; "idle": waiting for one; "stopping": finishing before exit; "stopped": exited cleanly. */
export const HEARTBEAT_STATES = ["idle", "busy", "stopping", "stopped"] as const;

export const workerHeartbeatSchema = z.object({
    v: z.literal(1),
    name: z.string(),
    state: z.enum(HEARTBEAT_STATES),
    host: z.string(),
    pid: z.number().int().positive(),
    os: z.object({platform: z.string(), release: z.string(), arch: z.string()}),
    /** CPU model ("Apple M2 Ultra") and logical cores. */
    cpu: z.object({model: z.string(), cores: count}),
    memory: z.object({totalBytes: count, freeBytes: count, processRssBytes: count}),
    engine: z.object({
        kind: z.enum(["llama", "simulated"]),
        /** The backend node-llama-cpp picked: "metal", "cuda", "vulkan", "cpu"; "simulated" for the fake engine. */
        backend: z.string(),
        contexts: count
    }),
    model: z.object({file: z.string(), fingerprint: z.string(), queue: z.string()}),
    concurrency: count,
    /** How often this worker beats, in ms (a reader declares it lost after several missed beats). */
    intervalMs: z.number().positive(),
    startedAtMs: z.number(),
    /** When this heartbeat was written (ms, Redis clock). */
    atMs: z.number(),
    current: z.array(heartbeatShardSchema),
    /** Since the worker started. `failures`: shard attempts that threw. */
    totals: z.object({shards: count, documents: count, tokens: count, failures: count}),
    /** Over the last minute (longer when shards are slow), idle time included. */
    throughput: z.object({tokensPerSecond: z.number().nonnegative(), documentsPerSecond: z.number().nonnegative(), windowSeconds: z.number().nonnegative()}),
    /** Tokens per second of busy time over the last shards: the engine's speed; null before the first shard. */
    engineTokensPerSecond: z.number().nonnegative().nullable()
});
export type WorkerHeartbeat = z.infer<typeof workerHeartbeatSchema>;
