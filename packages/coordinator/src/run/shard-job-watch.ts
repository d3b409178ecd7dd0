import {readShardJobFailure, type Logger, type ShardFailure} from "@orchard/shared";
import type {Queue} from "bullmq";
import type {RunStore} from "./run-store.ts";
import type {ShardEnqueuer} from "./shard-enqueuer.ts";

/** A job missing this long (and still without a result) is added again. */
const MISSING_GRACE_MS = 1000;
/**
 * Times a session adds again a shard that BullMQ failed for stalling (WORKER_LOST). Its lock also
 * expires when Redis, not the worker, is away (frozen, restarted, cut off): every shard in progress
 * then stalls at once, so a few outages fail a healthy shard. Bounded, so that a document that kills
 * every worker still ends failed.
 */
export const MAX_STALL_REQUEUES = 3;

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
    readonly #requeued = new Map<number, number>();

    public constructor(queue: Queue, enqueuer: ShardEnqueuer, store: RunStore, runId: string, logger: Logger | undefined) {
        this.#queue = queue;
        this.#enqueuer = enqueuer;
        this.#store = store;
        this.#runId = runId;
        this.#log = logger;
    }

    /**
     * Failed jobs of this run whose shards were merged after all (a worker that lost the lock still
     * answered): removed once the run is merged, so that a finished run leaves in the queue only the
     * jobs of shards that really failed (`failed`: what status counts and retry-failed redoes).
     */
    public async releaseMerged(failed: ReadonlySet<number>): Promise<number> {
        let released = 0;
        for (const job of await this.#queue.getJobs(["failed"])) {
            // job data is untrusted: the shard counts only when its job id is the one this run gives it
            const shard = (job.data as {shard?: unknown} | undefined)?.shard;
            if (typeof shard !== "number" || !Number.isInteger(shard) || shard < 0 || failed.has(shard) || job.id !== this.#jobIdOf(shard)) continue;
            await job.remove().catch(() => undefined);
            released++;
        }
        return released;
    }

    #jobIdOf(shard: number): string | undefined {
        try {
            return this.#enqueuer.jobId(shard);
        } catch {
            return undefined;
        }
    }

    /** The shard's failure if its job failed for good; undefined while it is (or is again) on its way. */
    public async check(shard: number): Promise<ShardFailure | undefined> {
        const jobId = this.#enqueuer.jobId(shard);
        const state = await this.#queue.getJobState(jobId);
        if (state === "failed") {
            this.#missingSince.delete(shard);
            // a worker that lost the shard's lock still writes its result: the shard is done, not failed
            if ((await this.#store.haveResults(this.#runId, [shard]))[0] === true) {
                await this.#queue.remove(jobId).catch(() => undefined);
                return undefined;
            }
            const job = await this.#queue.getJob(jobId);
            // any machine with the Redis URL writes failed reasons: parsed with a schema, within shardFailureSchema's bounds
            const {code, message} = readShardJobFailure(job?.failedReason, job?.stalledCounter ?? 0);
            const requeued = this.#requeued.get(shard) ?? 0;
            if (code === "WORKER_LOST" && requeued < MAX_STALL_REQUEUES) {
                this.#requeued.set(shard, requeued + 1);
                this.#log?.warn({shard, jobId, stalls: job?.stalledCounter}, "a shard's lock expired too often (workers or Redis away); enqueueing it again");
                await this.#queue.remove(jobId);
                await this.#enqueuer.add([shard]);
                return undefined;
            }
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
