import {MAX_MESSAGE_CHARS, type Logger, type ShardFailure} from "@orchard/shared";

/**
 * Results the coordinator rejected, per shard (invalid against shardResultSchema, or answering
 * other documents than the shard's). Invariant: a rejected result is a failed attempt, so a shard
 * with `attempts` rejected results fails for good (INVALID_RESULT) instead of running again: a
 * buggy or hostile worker cannot send a shard round forever. Counted in the session's memory, not
 * in Redis, where such a worker could reset the count.
 */
export class RejectedResults {
    readonly #attempts: number;
    readonly #log: Logger | undefined;
    readonly #rejected = new Map<number, {count: number; reason: string}>();

    /** `attempts`: the run's shardAttempts. */
    public constructor(attempts: number, logger?: Logger) {
        this.#attempts = attempts;
        this.#log = logger;
    }

    /** Counts a rejected result of `shard` (already dropped from Redis). */
    public reject(shard: number, reason: string): void {
        const count = (this.#rejected.get(shard)?.count ?? 0) + 1;
        this.#rejected.set(shard, {count, reason});
        this.#log?.error({shard, rejected: count, attempts: this.#attempts, err: reason},
            count >= this.#attempts ? "rejected a result: the shard has used its attempts and fails" : "rejected a result; the shard will run again");
    }

    /** The shard's failure once its rejected results reach the attempts; undefined before. */
    public failure(shard: number): ShardFailure | undefined {
        const rejected = this.#rejected.get(shard);
        if (rejected === undefined || rejected.count < this.#attempts) return undefined;
        return {
            code: "INVALID_RESULT", attempts: rejected.count, at: new Date().toISOString(),
            message: `${rejected.count} result${rejected.count === 1 ? " was" : "s were"} rejected; the last: ${rejected.reason}`.slice(0, MAX_MESSAGE_CHARS)
        };
    }

    /** Gives shards their attempts afresh (a retry). */
    public forget(shards: Iterable<number>): void {
        for (const shard of shards) this.#rejected.delete(shard);
    }
}
