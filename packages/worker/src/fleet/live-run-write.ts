import type {Redis} from "ioredis";

/**
 * One step on the server: the run's status is read and the field written only if it is "running".
 * A check from the worker followed by a separate write is not enough: a worker frozen between the
 * two (SIGSTOP, a sleeping Mac), or ioredis resending an unanswered write once a cut network comes
 * back, writes after `orchard cancel` deleted the run's working data, and nobody deletes it again.
 */
const WRITE_IF_RUNNING = `
if redis.call("HGET", KEYS[1], "status") ~= "running" then return 0 end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= "" then redis.call("PUBLISH", ARGV[3], ARGV[1]) end
return 1
`;

export interface LiveRunWrite {
    /** The run's record (a hash with its `status`). */
    readonly runKey: string;
    /** The hash written into (the run's results, its refusals). */
    readonly hashKey: string;
    readonly field: string;
    readonly value: string;
    /** Told the field's name once it is written (the coordinator's merge listens there). */
    readonly channel?: string;
}

/** Writes `field` into the run's hash if the run is still running; false (nothing written) when it is not. */
export async function writeWhileRunLive(redis: Redis, write: LiveRunWrite): Promise<boolean> {
    const written = await redis.eval(WRITE_IF_RUNNING, 2, write.runKey, write.hashKey, write.field, write.value, write.channel ?? "");
    return written === 1;
}
