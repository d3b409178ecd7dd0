import {z} from "zod";

/**
 * Why a document or a shard is missing from a run's output: the codes a worker or the coordinator
 * records for it, as data (never parsed back out of a message). A code read back from Redis that is
 * not in this set (a newer worker's, or a hostile machine's) reads as UNKNOWN_FAILURE: readers keep
 * going, and the message still says what happened.
 */
export const FAILURE_CODES = [
    /** The document's prompt is longer than the run's context (without --truncate): a verdict, not retried. */
    "DOCUMENT_TOO_LONG",
    /** The engine threw on a document, or returned values no working engine produces. */
    "ENGINE_FAILED",
    /** The worker's results failed their schema for every attempt (the coordinator's verdict). */
    "INVALID_RESULT",
    /** The shard's worker stopped answering (its lock expired too often: killed, frozen, lost its network). */
    "WORKER_LOST",
    /** The shard's failure record in Redis is unreadable (the coordinator still counts its documents missing). */
    "RECORD_INVALID",
    /** Orchard's own bug (an invalid shard payload, an outcome missing). */
    "INTERNAL",
    /** Generation: the completion ran out of --max-tokens before its JSON value closed (a verdict for that document). */
    "GENERATION_TRUNCATED",
    /** Generation: the completion does not parse against the run's JSON schema (a verdict for that document). */
    "JSON_INVALID",
    /** Generation, --output-format reexpress: the completion lacks the --label-from/--document-from value, or it has the wrong type (a verdict). */
    "OUTPUT_FIELD_INVALID",
    /** A code this version does not know. */
    "UNKNOWN_FAILURE"
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** What an unknown code reads as. */
export const UNKNOWN_FAILURE_CODE: FailureCode = "UNKNOWN_FAILURE";

const KNOWN = new Set<string>(FAILURE_CODES);

export function isFailureCode(code: unknown): code is FailureCode {
    return typeof code === "string" && KNOWN.has(code);
}

/** `code` if it is a failure code, else UNKNOWN_FAILURE (an OrchardError's code that names no failure of a document, e.g.). */
export function toFailureCode(code: string): FailureCode {
    return isFailureCode(code) ? code : UNKNOWN_FAILURE_CODE;
}

/**
 * A failure code read back from Redis or a state file: any string is accepted (a record written by
 * a newer version still loads) and an unknown one becomes UNKNOWN_FAILURE; only a non-string fails.
 */
export const failureCodeSchema = z.string().max(64).transform(toFailureCode);
