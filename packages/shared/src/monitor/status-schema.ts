import {z} from "zod";
import {isoTimeSchema, RUN_STATUSES} from "../fleet/fleet-schemas.ts";
import {PREFIX_REUSE_MODES} from "../numerics/numerics-settings.ts";
import {TASK_KIND_NAMES} from "../task/task-kind.ts";

/**
 * `orchard status --json` (and the dashboard's /api/status): a stable, versioned schema. Fields are
 * only ever added; a change of meaning bumps `v`. Times are ISO-8601 strings (UTC), durations
 * seconds, rates per second. Documented in the README's Monitoring section.
 */

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();
const isoTime = isoTimeSchema;

/** busy/idle/stopping/stopped as the worker said; lost: silent past the threshold; unknown: no heartbeat on record. */
export const WORKER_STATES = ["busy", "idle", "stopping", "stopped", "lost", "unknown"] as const;
export const workerStateSchema = z.enum(WORKER_STATES);
export type WorkerState = z.infer<typeof workerStateSchema>;

export const currentShardSchema = z.object({runId: z.string(), shard: count, jobId: z.string(), documents: count, startedAt: isoTime});

/** A worker of the fleet, from its heartbeat. */
export const workerStatusSchema = z.object({
    name: z.string(),
    host: z.string(),
    os: z.string(),
    /** CPU model, e.g. "Apple M2 Ultra". */
    chip: z.string(),
    cores: count,
    /** "metal", "cuda", "vulkan", "cpu" or "simulated". */
    backend: z.string(),
    engine: z.enum(["llama", "simulated"]),
    contexts: count,
    concurrency: count,
    memory: z.object({totalBytes: count, freeBytes: count, processRssBytes: count}),
    model: z.object({file: z.string(), fingerprint: z.string(), queue: z.string()}),
    state: workerStateSchema,
    startedAt: isoTime,
    lastHeartbeatAt: isoTime,
    heartbeatAgeSeconds: z.number(),
    /** Over the last minute, idle time included. */
    tokensPerSecond: rate,
    documentsPerSecond: rate,
    /** Busy-time speed over its last shards; null before its first. */
    engineTokensPerSecond: rate.nullable(),
    totals: z.object({shards: count, documents: count, tokens: count, failures: count}),
    current: z.array(currentShardSchema),
    /** Why the worker takes no shards now (its spare-machine policy: "user active", "outside 22:00-07:00", "on battery"); null when it works. */
    paused: z.string().nullable()
});
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

/** A worker's part in one run. Machine facts are null when its heartbeat is gone (expired). */
export const runWorkerSchema = z.object({
    name: z.string(),
    host: z.string().nullable(),
    chip: z.string().nullable(),
    backend: z.string().nullable(),
    state: workerStateSchema,
    /** Documents, tokens and shards this worker computed for the run (a shard done twice counts twice). */
    documents: count,
    tokens: count,
    shards: count,
    /** Shard attempts of this run that threw on this worker. */
    failures: count,
    /** On this run, over the last minute. */
    tokensPerSecond: rate,
    documentsPerSecond: rate,
    lastHeartbeatAt: isoTime.nullable(),
    heartbeatAgeSeconds: z.number().nullable(),
    /** Shards of this run it is processing now. */
    currentShards: z.array(count)
});
export type RunWorker = z.infer<typeof runWorkerSchema>;

export const inputProgressSchema = z.object({
    /** As the user named it. */
    file: z.string(),
    output: z.string(),
    documents: count,
    merged: count,
    /** Failed shards' and refused documents. */
    missing: count,
    /** In shards queued for a retry. */
    retrying: count,
    /** 100 x (merged + missing) / documents. */
    percent: z.number().min(0).max(100)
});

export const failedShardSchema = z.object({
    shard: count,
    input: count,
    file: z.string(),
    /** 1-based index of its first document in its input. */
    firstDocument: z.number().int().positive(),
    documents: count,
    code: z.string(),
    message: z.string(),
    attempts: count,
    at: isoTime,
    /** Queued for a retry (dashboard, retry-failed): it leaves the list when patched in, or comes back failed. */
    retrying: z.boolean()
});
export type FailedShard = z.infer<typeof failedShardSchema>;

/** Documents of a run computed on one kind of machine (backend and chip), from the per-shard provenance. */
export const runMachineSchema = z.object({
    /** "metal", "cuda", "vulkan", "cpu", "simulated", or "unknown" (a worker before provenance). */
    backend: z.string(),
    chip: z.string(),
    /** The node-llama-cpp / llama.cpp builds seen on it ("3.22.1 / b6080"), distinct. */
    builds: z.array(z.string()),
    /** Documents of the merged shards it computed. */
    documents: count,
    shards: count
});
export type RunMachine = z.infer<typeof runMachineSchema>;

/** starting: the local workers of `orchard run` have not reported yet (only its own view says so; `status` cannot know). */
export const HEALTH_LEVELS = ["ok", "starting", "warning", "error"] as const;

export const runStatusSchema = z.object({
    runId: z.string(),
    name: z.string().nullable(),
    status: z.enum(RUN_STATUSES),
    /** At a glance: ok, starting (local workers loading), warning (failures, lost workers, stalled) or error (nobody working on a running run, documents missing). */
    health: z.enum(HEALTH_LEVELS),
    /** Why health is not ok, one sentence each. */
    problems: z.array(z.string()),
    /** Whether a coordinator holds the run (merging); absent for a finished run or a crashed coordinator. */
    coordinator: z.enum(["active", "absent"]),
    createdAt: isoTime,
    updatedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    engine: z.enum(["llama", "simulated"]),
    model: z.object({file: z.string(), fingerprint: z.string(), queue: z.string()}),
    shardSize: count,
    documents: z.object({total: count, merged: count, missing: count, retrying: count, remaining: count}),
    /** 100 x (merged + missing) / total. */
    percent: z.number().min(0).max(100),
    shards: z.object({
        total: count,
        /** Below the merge cursor: in the outputs or recorded failed. */
        merged: count,
        /** Computed, waiting for the shards before them to be merged. */
        waiting: count,
        failed: count,
        retrying: count
    }),
    inputs: z.array(inputProgressSchema),
    throughput: z.object({
        tokensPerSecond: rate,
        documentsPerSecond: rate,
        windowSeconds: z.number().nonnegative(),
        /** Prompt tokens computed for the run so far, all workers. */
        tokens: count
    }),
    /** From the remaining documents and the last minute's rate; null when unknown or not running. */
    eta: z.object({seconds: z.number().nonnegative().nullable(), at: isoTime.nullable()}),
    /** Workers alive (busy or idle) on the run's queue. */
    activeWorkers: count,
    workers: z.array(runWorkerSchema),
    failedShards: z.array(failedShardSchema),
    skippedDocuments: z.object({
        count,
        /** The first 20, in input order. */
        first: z.array(z.object({file: z.string(), line: count, id: z.string(), code: z.string(), message: z.string()})),
        /**
         * Every refused document counted by its code: the task's own counts (generation's
         * GENERATION_TRUNCATED truncations, JSON_INVALID schema failures, OUTPUT_FIELD_INVALID).
         * Absent from statuses made before task kinds.
         */
        byCode: z.record(z.string(), count).optional()
    }),
    /** What the run computes per document (reask, classify or generate). Absent from statuses made before task kinds: the re-ask. */
    task: z.enum(TASK_KIND_NAMES).optional(),
    /**
     * The settings every worker computes the run with. `recorded` false: a run made before they were
     * recorded, computed with today's defaults from now on. Absent from statuses made before numerics.
     */
    numerics: z.object({batchSize: count, engineRoute: z.string(), flashAttention: z.boolean(), contextSize: count, prefixReuse: z.enum(PREFIX_REUSE_MODES).optional(), recorded: z.boolean()}).optional(),
    /** The machines the run accepts (`--require-backend`, `--require-chip`); null: any. */
    requires: z.object({backend: z.string().nullable(), chip: z.string().nullable()}).optional(),
    /** How the merged documents split across backends and chips (more than one: the run mixes numbers of different machines). */
    machines: z.array(runMachineSchema).optional(),
    /** Workers that leave the run's shards alone, and why (their last word while the run ran). */
    refusals: z.array(z.object({worker: z.string(), reason: z.string(), at: isoTime})).optional(),
    /** The run's BullMQ queue (shared by every run of the same model). */
    queue: z.object({name: z.string(), waiting: count, active: count, delayed: count, prioritized: count, failed: count})
});
export type RunStatusReport = z.infer<typeof runStatusSchema>;

export const fleetStatusSchema = z.object({
    v: z.literal(1),
    generatedAt: isoTime,
    keyPrefix: z.string(),
    /** The asked run, or the most recent runs, newest first. */
    runs: z.array(runStatusSchema),
    /** Every worker heard from in the last hour (and lost ones), by name. */
    workers: z.array(workerStatusSchema)
});
export type FleetStatus = z.infer<typeof fleetStatusSchema>;
