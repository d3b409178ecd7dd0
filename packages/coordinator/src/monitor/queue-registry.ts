import {Queue} from "bullmq";
import type {Redis} from "ioredis";

/** Job counts of a shard queue (every run of one model shares it). */
export interface QueueCounts {
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    readonly prioritized: number;
    readonly failed: number;
}

/**
 * BullMQ Queue handles of the fleet's shard queues over one shared connection, made once per name:
 * the status collector counts jobs with them, bull-board browses them. Closing closes the handles,
 * never the shared connection.
 */
export class QueueRegistry {
    readonly #redis: Redis;
    readonly #prefix: string;
    readonly #queues = new Map<string, Queue>();
    #closed = false;

    public constructor(redis: Redis, prefix: string) {
        this.#redis = redis;
        this.#prefix = prefix;
    }

    public get(name: string): Queue {
        let queue = this.#queues.get(name);
        if (queue === undefined) {
            queue = new Queue(name, {connection: this.#redis, prefix: this.#prefix});
            // connection trouble is reported by the shared client's own handler
            queue.on("error", () => undefined);
            this.#queues.set(name, queue);
        }
        return queue;
    }

    public names(): string[] {
        return [...this.#queues.keys()];
    }

    public async counts(name: string): Promise<QueueCounts> {
        const counts = await this.get(name).getJobCounts("waiting", "active", "delayed", "prioritized", "failed");
        return {
            waiting: counts["waiting"] ?? 0, active: counts["active"] ?? 0, delayed: counts["delayed"] ?? 0,
            prioritized: counts["prioritized"] ?? 0, failed: counts["failed"] ?? 0
        };
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => undefined)));
        this.#queues.clear();
    }
}
