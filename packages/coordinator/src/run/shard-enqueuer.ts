import {runNumericsOf, runTaskOf, type Logger, type RunSpec, type ShardJob} from "@orchard/shared";
import type {Queue} from "bullmq";
import type {RunStore} from "./run-store.ts";
import type {RunLayout} from "./run-layout.ts";

/** BullMQ job name of a shard (one queue per model fingerprint holds every run's shards). */
export const SHARD_JOB_NAME = "shard";

/**
 * Feeds a run's shards to its queue lazily: never more than `maxPendingShards` shards' worth of
 * documents past the merge cursor, so a million-document dataset never sits whole in Redis, and
 * the window slides as the merger advances. Adding is idempotent (deterministic job ids; a shard whose result is already
 * waiting is not added again), so a resumed coordinator or a reconcile simply adds the window again.
 */
export class ShardEnqueuer {
    readonly #queue: Queue;
    readonly #spec: RunSpec;
    readonly #layout: RunLayout;
    readonly #store: RunStore;
    readonly #log: Logger | undefined;
    /** Every shard below it (and at or past the cursor) has been added. */
    #next = 0;

    public constructor(init: {queue: Queue; layout: RunLayout; store: RunStore; logger?: Logger}) {
        this.#queue = init.queue;
        this.#spec = init.layout.spec;
        this.#layout = init.layout;
        this.#store = init.store;
        this.#log = init.logger?.child({component: "enqueuer"});
    }

    /**
     * Adds the shards of the window from `cursor` not added yet; returns how many. The window holds
     * `maxPendingShards` full shards' worth of documents: the small shards at the end of an input
     * count by their size, or a fleet would starve on a window of a few dozen 2-document shards.
     */
    public async fill(cursor: number): Promise<number> {
        const budget = this.#spec.maxPendingShards * this.#layout.plan.shardSize;
        let end = Math.min(this.#layout.total, cursor + 1);
        for (let documents = end > cursor ? this.#layout.shard(cursor).documents : 0; end < this.#layout.total; end++) {
            documents += this.#layout.shard(end).documents;
            if (documents > budget) break;
        }
        const start = Math.max(this.#next, cursor);
        if (start >= end) return 0;
        const shards = Array.from({length: end - start}, (_, i) => start + i);
        const added = await this.add(shards);
        this.#next = end;
        return added;
    }

    /**
     * Adds again the shards of the window whose job is gone without a result. Redis may have lost
     * its last second of writes (a crash with appendfsync everysec), jobs included; then fills the
     * window. Returns how many jobs were re-created.
     */
    public async reconcile(cursor: number): Promise<number> {
        const enqueued = Array.from({length: Math.max(0, Math.min(this.#next, this.#layout.total) - cursor)}, (_, i) => cursor + i);
        const present = await this.#store.haveResults(this.#spec.runId, enqueued);
        const lost: number[] = [];
        for (const [i, shard] of enqueued.entries())
            if (present[i] !== true && await this.#queue.getJobState(this.jobId(shard)) === "unknown") lost.push(shard);
        const recreated = await this.add(lost);
        await this.fill(cursor);
        return recreated;
    }

    /** Adds these shards (those without a waiting result); returns how many were handed to BullMQ. */
    public async add(shards: readonly number[]): Promise<number> {
        const present = await this.#store.haveResults(this.#spec.runId, shards);
        let added = 0;
        for (const [i, global] of shards.entries()) {
            if (present[i] === true) continue;
            await this.#queue.add(SHARD_JOB_NAME, await this.#payload(global), {
                jobId: this.jobId(global),
                attempts: this.#spec.shardAttempts,
                backoff: {type: "exponential", delay: this.#spec.retryDelayMs},
                // the result travels in the run's results hash; the job itself is not needed once done
                removeOnComplete: true,
                // kept until the coordinator has recorded the failure and `retry-failed` replaces it
                removeOnFail: false
            });
            added++;
        }
        if (added > 0) this.#log?.debug({from: shards[0], to: shards.at(-1), added}, "shards enqueued");
        return added;
    }

    public jobId(global: number): string {
        return this.#layout.jobId(global);
    }

    async #payload(global: number): Promise<ShardJob> {
        const shard = this.#layout.shard(global);
        const input = this.#layout.input(shard.input);
        const documents = await this.#layout.readDocuments(global);
        return {
            v: 1,
            runId: this.#spec.runId,
            shard: global,
            input: shard.input,
            localShard: shard.local,
            file: input.displayPath,
            contextSize: this.#spec.contextSize,
            truncate: this.#spec.truncate,
            trailingInstruction: this.#spec.prompt.trailingInstruction,
            task: runTaskOf(this.#spec),
            numerics: runNumericsOf(this.#spec),
            ...(this.#spec.requires === undefined ? {} : {requires: this.#spec.requires}),
            documents: documents.map((prepared) => ({id: prepared.doc.id, line: prepared.lineNumber, promptText: prepared.promptText, documentText: prepared.documentText}))
        };
    }
}
