import {DEFAULT_KEY_PREFIX} from "../fleet/fleet-keys.ts";

/**
 * Redis keys of fleet monitoring, beside the run keys of FleetKeys (same prefix, no overlap):
 *
 * - `<prefix>:workers`: sorted set, worker name -> time of its last heartbeat (ms, Redis clock).
 * - `<prefix>:worker:<name>`: the worker's last heartbeat (JSON, `workerHeartbeatSchema`), expiring a day after it.
 * - `<prefix>:run:<runId>:workers`: hash of per-worker counters of a run: `documents:<name>`,
 *   `tokens:<name>`, `shards:<name>`, `failures:<name>` (HINCRBY by the worker, so totals survive any restart).
 * - `<prefix>:run:<runId>:throughput`: stream, one entry per completed shard (`w` worker, `s` shard,
 *   `d` documents, `t` tokens, `e` elapsed ms; the entry id is the Redis time it completed), capped.
 */
export class MonitorKeys {
    public readonly prefix: string;

    public constructor(prefix: string = DEFAULT_KEY_PREFIX) {
        this.prefix = prefix;
    }

    public workers(): string {
        return `${this.prefix}:workers`;
    }

    public worker(name: string): string {
        return `${this.prefix}:worker:${name}`;
    }

    public runWorkers(runId: string): string {
        return `${this.prefix}:run:${runId}:workers`;
    }

    public runThroughput(runId: string): string {
        return `${this.prefix}:run:${runId}:throughput`;
    }
}

/** The counters of `MonitorKeys.runWorkers`, one field per worker and counter. */
export const RUN_WORKER_COUNTERS = ["documents", "tokens", "shards", "failures"] as const;
export type RunWorkerCounter = (typeof RUN_WORKER_COUNTERS)[number];

/** `documents:<worker>`. */
export function runWorkerField(counter: RunWorkerCounter, worker: string): string {
    return `${counter}:${worker}`;
}
