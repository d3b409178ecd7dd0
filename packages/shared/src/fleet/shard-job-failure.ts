import {z} from "zod";
import {failureCodeSchema, toFailureCode, type FailureCode} from "./failure-codes.ts";
import {MAX_MESSAGE_CHARS} from "./fleet-schemas.ts";

/**
 * How a worker tells the coordinator why a shard's job failed. BullMQ keeps only an error's message
 * (the job's `failedReason`), so the worker puts this object there as JSON, and the coordinator
 * parses it back with a schema. Any machine with the Redis URL can write a failed reason: whatever
 * does not parse still gives a failure (see readShardJobFailure), never a crash.
 */
export const shardJobFailureSchema = z.object({
    v: z.literal(1),
    code: failureCodeSchema,
    message: z.string().transform((message) => message.slice(0, MAX_MESSAGE_CHARS))
});
export interface ShardJobFailure {
    readonly code: FailureCode;
    readonly message: string;
}

/** The `failedReason` a worker gives BullMQ for a failure (the Error's message). */
export function encodeShardJobFailure(failure: ShardJobFailure): string {
    return JSON.stringify({v: 1, code: failure.code, message: failure.message.slice(0, MAX_MESSAGE_CHARS)});
}

/** Workers before failure codes were data wrote `[CODE] message`: runs they failed still read right. */
const LEGACY_REASON = /^\[([A-Z][A-Z0-9_]{0,63})\] ([\s\S]*)$/;

/**
 * The failure of a shard's job from what BullMQ kept of it: the JSON a worker wrote
 * (encodeShardJobFailure), else an older worker's `[CODE] message`, else a reason BullMQ wrote itself:
 * a job that stalled (`stalledCounter` > 0: its worker stopped renewing the lock) is WORKER_LOST, any
 * other ENGINE_FAILED (what the coordinator always reported for reasons without a code).
 */
export function readShardJobFailure(failedReason: string | undefined, stalledCounter: number): ShardJobFailure {
    const reason = failedReason ?? "the shard failed";
    const parsed = shardJobFailureSchema.safeParse(parseJsonOrUndefined(reason));
    if (parsed.success) return {code: parsed.data.code, message: parsed.data.message};
    const legacy = LEGACY_REASON.exec(reason);
    if (legacy !== null) return {code: toFailureCode(legacy[1] as string), message: (legacy[2] as string).slice(0, MAX_MESSAGE_CHARS)};
    return {code: stalledCounter > 0 ? "WORKER_LOST" : "ENGINE_FAILED", message: reason.slice(0, MAX_MESSAGE_CHARS)};
}

function parseJsonOrUndefined(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return undefined;
    }
}
