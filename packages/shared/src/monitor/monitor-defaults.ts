/**
 * Defaults of fleet monitoring (worker heartbeats, status, dashboard), shared by the workers that
 * publish and the coordinator side that reads, so both agree. Units are in the names.
 */

/**
 * A worker publishes its heartbeat this often (and at once when it starts or ends a shard). Cheap:
 * one small SET and ZADD; 5 s keeps "last heartbeat" meaningful on a phone without loading Redis.
 */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * A worker silent this long is shown as lost: 6 missed heartbeats. Far sooner than BullMQ notices a
 * dead worker (lock 60 s + stall check 30 s), so the morning view names the Mac that went to sleep.
 */
export const WORKER_LOST_AFTER_MS = 30_000;
/** A worker's heartbeat key expires this long after its last beat (a lost Mac stays visible for a day). */
export const HEARTBEAT_TTL_MS = 24 * 3_600_000;
/** Stopped or lost workers drop out of the fleet-wide list after this long (they stay in their runs' rows). */
export const WORKER_FORGET_AFTER_MS = 3_600_000;
/**
 * Entries kept in a run's throughput stream (one per completed shard): ~640,000 documents at the
 * default shard size, ~100 bytes each (~2 MB). Older entries are trimmed; totals are kept apart.
 */
export const THROUGHPUT_STREAM_MAX_LENGTH = 20_000;
/** Rates ("tokens/s over the last minute") look back this far at least. */
export const RATE_WINDOW_MS = 60_000;
/** ...far enough to hold this many shards, so that a Mac whose shards take longer than a minute never reads 0. */
export const RATE_MIN_SAMPLES = 3;
/** ...but never further than this. */
export const RATE_MAX_WINDOW_MS = 15 * 60_000;
/** `orchard dashboard` listens here by default. */
export const DEFAULT_DASHBOARD_PORT = 8420;
/** Loopback by default: any other address needs a token. */
export const DEFAULT_DASHBOARD_HOST = "127.0.0.1";
/** `orchard playground` listens here by default (next to the dashboard's port; same loopback default). */
export const DEFAULT_PLAYGROUND_PORT = 8421;
/** A dashboard token shorter than this is refused (guessable). */
export const MIN_DASHBOARD_TOKEN_LENGTH = 16;
/** Runs a fleet-wide status lists when no run is named (`orchard status --limit`). */
export const DEFAULT_STATUS_RUN_LIMIT = 20;
