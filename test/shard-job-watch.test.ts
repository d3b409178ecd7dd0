import assert from "node:assert/strict";
import {after, before, describe, it} from "node:test";
import {FleetKeys} from "@orchard/shared";
import {Queue, Worker} from "bullmq";
import {Redis} from "ioredis";
import {MAX_STALL_REQUEUES, ShardJobWatch} from "../packages/coordinator/src/run/shard-job-watch.ts";
import {RunStore} from "../packages/coordinator/src/run/run-store.ts";
import type {ShardEnqueuer} from "../packages/coordinator/src/run/shard-enqueuer.ts";
import {TestRedisServer} from "./support/redis-server.ts";

// Found by `npm run chaos` (issue 13): every Redis outage (frozen, restarted) or partition expires the
// locks of every shard in progress, so a few of them made BullMQ fail a healthy shard "stalled more
// than allowable limit": its documents were reported missing, or, when a late worker answered anyway,
// the failed job stayed in the queue after the run had merged it.
const RUN = "run-chaos";
const jobIdOf = (shard: number) => `${RUN}-i0-s${shard}`;

describe("ShardJobWatch: a shard failed for stalling is not a lost shard", () => {
    let server: TestRedisServer;
    let redis: Redis;
    let prefixes = 0;

    before(async () => {
        server = await TestRedisServer.start();
        redis = new Redis(server.url, {maxRetriesPerRequest: null});
    });
    after(async () => {
        redis?.disconnect();
        await server?.stop();
    });

    /** What BullMQ's stalled check leaves of a shard whose lock expired once too often: failed, its stalled counter set. */
    async function failStalled(queue: Queue, shard: number, jobId = jobIdOf(shard)): Promise<void> {
        await queue.remove(jobId);
        await queue.add("shard", {shard}, {jobId, removeOnFail: false});
        const connection = redis.duplicate();
        const worker = new Worker("shards", null, {connection, prefix: queue.opts.prefix, autorun: false});
        try {
            const job = await worker.getNextJob("token");
            assert.equal(job?.id, jobId);
            await job.moveToFailed(new Error("job stalled more than allowable limit"), "token", false);
        } finally {
            await worker.close(true);
            connection.disconnect();
        }
        await redis.hset(`${queue.qualifiedName}:${jobId}`, "stc", "3");
        assert.equal(await queue.getJobState(jobId), "failed");
    }

    /** A real queue whose shard `shard` BullMQ failed for stalling, as after the locks expired during outages. */
    async function stalledShard(shard: number) {
        const prefix = `watch-${prefixes++}`;
        const queue = new Queue("shards", {connection: redis, prefix});
        const added: number[] = [];
        const enqueuer = {
            jobId: (global: number) => {
                if (global > 9) throw new RangeError(`no shard ${global}`);
                return jobIdOf(global);
            },
            add: async (shards: readonly number[]) => {
                for (const s of shards) await queue.add("shard", {shard: s}, {jobId: jobIdOf(s)});
                added.push(...shards);
                return shards.length;
            }
        } as unknown as ShardEnqueuer;
        await failStalled(queue, shard);
        const store = new RunStore(redis, new FleetKeys(prefix));
        return {queue, store, added, watch: new ShardJobWatch(queue, enqueuer, store, RUN, undefined)};
    }

    it(`adds the shard again (up to ${MAX_STALL_REQUEUES} times), then reports it WORKER_LOST`, async () => {
        const {queue, watch, added} = await stalledShard(3);
        try {
            assert.equal(await watch.check(3), undefined);
            assert.deepEqual(added, [3]);
            assert.equal(await queue.getJobState(jobIdOf(3)), "waiting");
            // the same shard failing again and again: bounded, then a failure
            for (let i = 1; i < MAX_STALL_REQUEUES; i++) {
                await failStalled(queue, 3);
                assert.equal(await watch.check(3), undefined);
            }
            assert.equal(added.length, MAX_STALL_REQUEUES);
            await failStalled(queue, 3);
            const failure = await watch.check(3);
            assert.equal(failure?.code, "WORKER_LOST");
        } finally {
            await queue.obliterate({force: true});
            await queue.close();
        }
    });

    it("takes a result written by the worker that lost the lock, and removes the failed job", async () => {
        const {queue, store, watch, added} = await stalledShard(4);
        try {
            await redis.hset(store.keys.results(RUN), "4", "{}");
            assert.equal(await watch.check(4), undefined);
            assert.deepEqual(added, []);
            assert.equal(await queue.getJobState(jobIdOf(4)), "unknown");
        } finally {
            await queue.obliterate({force: true});
            await queue.close();
        }
    });

    it("releaseMerged: a finished run keeps only the failed jobs of shards that really failed", async () => {
        const {queue, watch} = await stalledShard(5);
        try {
            await failStalled(queue, 6);
            // a job of another run: left alone
            await failStalled(queue, 7, "other-run-i0-s7");
            assert.equal(await watch.releaseMerged(new Set([6])), 1);
            assert.equal(await queue.getJobState(jobIdOf(5)), "unknown");
            assert.equal(await queue.getJobState(jobIdOf(6)), "failed");
            assert.equal(await queue.getJobState("other-run-i0-s7"), "failed");
        } finally {
            await queue.obliterate({force: true});
            await queue.close();
        }
    });
});
