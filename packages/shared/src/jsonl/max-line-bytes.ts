import {OrchardError} from "../errors/orchard-error.ts";

/**
 * Longest JSONL line read by default, in bytes (terminator excluded): 8 MiB, over 1,700 times the
 * longest document a prompt keeps (4,800 characters), yet small enough that a line is held
 * as bytes and as a string in a coordinator heap of 512 MB many times over.
 */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * The highest limit accepted: 256 MiB. V8 strings end near 512 Mi characters (a 600 MB line
 * failed with "Cannot create a string longer than..."), and a line is held as bytes, as a string
 * and parsed at once; the coordinator's old generation is 512 MB.
 */
export const MAX_MAX_LINE_BYTES = 256 * 1024 * 1024;

/** Checks a `--max-line-bytes` value (INVALID_ARGUMENT); undefined gives the default. */
export function resolveMaxLineBytes(value: number | undefined): number {
    const bytes = value ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > MAX_MAX_LINE_BYTES)
        throw new OrchardError("INVALID_ARGUMENT", `--max-line-bytes must be an integer from 1 to ${MAX_MAX_LINE_BYTES} (got ${value})`);
    return bytes;
}
