/**
 * Defaults of the fleet (coordinator and workers), in one place so both sides agree. Units are in
 * the names; each value says why it is what it is.
 */

/**
 * Documents per shard (one BullMQ job). Measured: 2,000 documents through the whole pipeline with
 * the simulated engine at unlimited speed (1 worker, local Redis with AOF, coordinator and worker in
 * one process on the 2-core dev box) took 3.5 / 1.9 / 1.6 / 1.3 / 1.25 ms per document at shard
 * sizes 1 / 4 / 8 / 32 / 128: a shard costs ~2.3 ms (fetch, lock, result write, completion, merge
 * step) on top of its documents. At 32 that is ~0.07 ms per document against ~300-500 ms of Mixtral
 * per document on an M2 Ultra (< 0.05%), while a crashed worker loses at most ~15 s of work, a
 * payload stays ~50 KB (150 KB worst case at 4,800 characters per document) and the end-of-run tail,
 * when the last shards run on single machines, stays well under a minute. Larger shards buy nothing
 * measurable and make each crash or straggler cost minutes. Re-measure on the fleet's network.
 */
export const DEFAULT_SHARD_SIZE = 32;
/**
 * Near the end of each input, shards shrink: once fewer than divisor x shard size documents remain
 * (4,096 at the defaults), a shard takes 1/divisor of what remains, down to `minimum` documents
 * (guided self-scheduling). With whole 32-document shards, a slow Mac that takes one of the last
 * shards holds up the in-order merge and the end of the run: bench/fleet-bench.ts (scaling part,
 * simulated workers of 0.5x to 1.5x speed) measured the last 5% of the documents taking 1.5x the
 * ideal time with 4 workers. A divisor of 128 keeps each of the last shards a small share of what
 * remains for fleets up to ~32 Macs holding 2 shards each, for ~128 x ln(32 / 2) ~ 350 extra shards
 * per input (~1 s of queue overhead); 64 left the 16-worker tail and merge lag measurably longer.
 * A minimum of 2 keeps the per-shard round trips small next to the shard when documents are fast.
 */
export const DEFAULT_SHARD_TAPER = {divisor: 128, minimum: 2} as const;
/** Shards a worker holds at once (`orchard worker --concurrency`): see FleetWorkerOptions.concurrency. */
export const DEFAULT_WORKER_CONCURRENCY = 2;
/**
 * Shards enqueued but not yet merged, at most: bounds what the run holds in Redis (payloads and
 * results, ~3 MB at the defaults) whatever the dataset's size, while keeping 4 shards queued per
 * Mac for a 16-Mac fleet so nobody waits for the coordinator.
 */
export const DEFAULT_MAX_PENDING_SHARDS = 64;
/**
 * BullMQ lock of a shard being processed (renewed every half of it). Inference runs on
 * node-llama-cpp's native threads, so the event loop stays free to renew; 60 s (twice BullMQ's
 * default) leaves room for a Mac under memory pressure or a GC pause of a big process, and a
 * crashed worker's shard is still taken over within lock + stalled interval (~1.5 min).
 */
export const DEFAULT_LOCK_DURATION_MS = 60_000;
/** How often workers look for shards whose lock expired (BullMQ's default). */
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;
/**
 * Lock expiries a shard survives before it is failed: a worker killed or a Mac put to sleep mid-shard
 * is normal in a fleet of spare machines, but a document that crashes every worker must not take the
 * fleet down forever.
 */
export const DEFAULT_MAX_STALLED_COUNT = 2;
/** Attempts of a shard whose processing throws (a transient engine error) before it is failed. */
export const DEFAULT_SHARD_ATTEMPTS = 3;
/** First retry delay of a failed attempt (exponential after it). */
export const DEFAULT_RETRY_DELAY_MS = 5_000;
/** A stopping worker finishes its shard within this long, or gives it back to the queue. */
export const DEFAULT_WORKER_SHUTDOWN_MS = 15_000;
/**
 * Past that deadline, giving the shard back gets this long; then the worker drops its Redis
 * connections and stops anyway (Redis unreachable: its replies may never come).
 */
export const DEFAULT_WORKER_SHUTDOWN_GRACE_MS = 30_000;
/** The run's prompt limit in tokens; equal to `extract`'s default --context-size, so outputs agree. */
export const DEFAULT_RUN_CONTEXT_SIZE = 4096;
/** BullMQ's events stream is capped at this many entries (its default of 10,000 only bloats Redis here). */
export const EVENTS_STREAM_MAX_LENGTH = 1_000;
/** Folder (relative to the working directory) of the embedded Redis and other local fleet state. */
export const DEFAULT_STATE_DIR = ".orchard";

/**
 * A served model's record in Redis expires this long after its server last refreshed it: a
 * coordinator killed with SIGKILL leaves no address that workers would try for long.
 */
export const MODEL_SOURCE_TTL_MS = 60_000;
/** How often a model server refreshes its record: three refreshes per TTL ride out a slow Redis. */
export const MODEL_SOURCE_REFRESH_MS = 20_000;
