import {readShardJobFailure, type Logger, type ShardFailure} from "@orchard/shared";
import type {Queue} from "bullmq";
import type {RunStore} from "./run-store.ts";
import type {ShardEnqueuer} from "./shard-enqueuer.ts";

/** A job missing this long (and still without a result) is added again. */
const MISSING_GRACE_MS = 1000;

/**
 * Looks at the BullMQ job of a shard the merger is waiting for: reports it when it failed for
 * good, and adds it again when it vanished without a result (Redis lost it in a crash; or a worker
 * completed it without answering, which only a cancelled run does). A job seen missing once may
 * just have completed between two reads, hence the grace period and the second look at the results.
 */
export class ShardJobWatch {
    readonly #queue: Queue;
    readonly #enqueuer: ShardEnqueuer;
    readonly #store: RunStore;
    readonly #runId: string;
    readonly #log: Logger | undefined;
    readonly #missingSince = new Map<number, number>();

    public constructor(queue: Queue, enqueuer: ShardEnqueuer, store: RunStore, runId: string, logger: Logger | undefined) {
        this.#queue = queue;
        this.#enqueuer = enqueuer;
        this.#store = store;
        this.#runId = runId;
        this.#log = logger;
    }

    /** The shard's failure if its job failed for good; undefined while it is (or is again) on its way. */
    public async check(shard: number): Promise<ShardFailure | undefined> {
        const jobId = this.#enqueuer.jobId(shard);
        const state = await this.#queue.getJobState(jobId);
        if (state === "failed") {
            this.#missingSince.delete(shard);
            const job = await this.#queue.getJob(jobId);
            // any machine with the Redis URL writes failed reasons: parsed with a schema, within shardFailureSchema's bounds
            const {code, message} = readShardJobFailure(job?.failedReason, job?.stalledCounter ?? 0);
            return {
                code, message,
                attempts: job?.attemptsMade ?? 0,
                at: new Date(job?.finishedOn ?? Date.now()).toISOString()
            };
        }
        if (state !== "unknown" && state !== "completed") {
            this.#missingSince.delete(shard);
            return undefined;
        }
        const since = this.#missingSince.get(shard);
        if (since === undefined) {
            this.#missingSince.set(shard, Date.now());
            return undefined;
        }
        if (Date.now() - since < MISSING_GRACE_MS) return undefined;
        this.#missingSince.delete(shard);
        if ((await this.#store.haveResults(this.#runId, [shard]))[0] === true) return undefined;
        // a completed job would make the add below a no-op
        if (state === "completed") await this.#queue.remove(jobId).catch(() => undefined);
        this.#log?.warn({shard, jobId, state}, "a shard's job is gone without a result (Redis lost it?); enqueueing it again");
        await this.#enqueuer.add([shard]);
        return undefined;
    }
}
