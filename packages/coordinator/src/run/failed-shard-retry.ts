import {OrchardError, type ShardFailure} from "@orchard/shared";
import type {Queue} from "bullmq";
import type {Redis} from "ioredis";
import type {RunLayout} from "./run-layout.ts";
import type {RunStore} from "./run-store.ts";

/** Watched transactions retried this often when a merge step changes the run between the check and the write. */
const MAX_TRANSACTION_ATTEMPTS = 10;

/**
 * The failed shards a retry asks for (`"all"`: every failed one, in shard order), checked to be
 * failed now: `orchard retry-failed` and the dashboard's retry choose their shards here.
 */
export function failedShardsToRetry(runId: string, failures: ReadonlyMap<number, ShardFailure>, shards: readonly number[] | "all"): number[] {
    const wanted = shards === "all" ? [...failures.keys()].sort((a, b) => a - b) : [...new Set(shards)];
    for (const shard of wanted)
        if (!failures.has(shard)) throw new OrchardError("INVALID_ARGUMENT", `shard ${shard} of run ${runId} is not failed (it may already be queued for a retry)`);
    return wanted;
}

export interface RequeueFailedShardsInit {
    readonly store: RunStore;
    /** The run's queue (the failed jobs are removed from it). */
    readonly queue: Queue;
    readonly layout: RunLayout;
    readonly shards: readonly number[];
    /**
     * A coordinator holds the run (the dashboard's retry during its first pass): the shards move to
     * the retry set only while the merge cursor is short of the end, in a transaction watched
     * against it, on this connection's duplicate. Otherwise the caller holds the run and reopens it.
     */
    readonly whileFirstPass?: {readonly redis: Redis};
}

/**
 * Hands failed shards back for a rerun: the one way `orchard retry-failed` and the dashboard's retry
 * do it. The failed BullMQ jobs keep their ids until removed, so they are removed (the rerun adds the
 * same ids); then the shards move from the failed set to the retry set, which a coordinator reruns
 * and patches into the outputs after its first pass (RunSession).
 */
export async function requeueFailedShards(init: RequeueFailedShardsInit): Promise<void> {
    const {store, queue, layout, shards} = init;
    if (shards.length === 0) return;
    // a job already removed (a retry that stopped halfway) is no reason to stop this one
    for (const shard of shards) await queue.remove(layout.jobId(shard)).catch(() => 0);
    if (init.whileFirstPass === undefined) await store.startRetry(layout.spec.runId, shards);
    else await markWhileFirstPass(init.whileFirstPass.redis, store, layout, shards);
}

/**
 * Moves shards from the failed set to the retry set only while the merge cursor is short of the
 * end: the coordinator reads the retry set after its last merge step, which moves the cursor to
 * the end, so a shard marked before that step is surely rerun, and one cannot be marked after it.
 */
async function markWhileFirstPass(redis: Redis, store: RunStore, layout: RunLayout, shards: readonly number[]): Promise<void> {
    const keys = store.keys;
    const runId = layout.spec.runId;
    // WATCH belongs to a connection: a private one, so no other request's commands interleave
    const connection = redis.duplicate();
    try {
        for (let attempt = 0; attempt < MAX_TRANSACTION_ATTEMPTS; attempt++) {
            await connection.watch(keys.run(runId));
            const cursor = Number(await connection.hget(keys.run(runId), "cursorShard"));
            if (!(cursor < layout.total)) {
                await connection.unwatch();
                throw new OrchardError("RUN_BUSY", `run ${runId}'s coordinator is finishing its pass; retry in a few seconds (or with \`orchard retry-failed ${runId}\` once it ends)`, {retryable: true});
            }
            const replies = await connection.multi()
                .sadd(keys.retrying(runId), ...shards.map(String))
                .hdel(keys.failed(runId), ...shards.map(String))
                .exec();
            if (replies !== null) return;
        }
        throw new OrchardError("RUN_BUSY", `run ${runId} is changing too fast to queue a retry; try again`, {retryable: true});
    } finally {
        connection.disconnect();
    }
}
