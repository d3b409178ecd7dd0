import {DEFAULT_MAX_LINE_BYTES} from "../jsonl/max-line-bytes.ts";

/**
 * Flags on how input files are read, shared by `extract` and the fleet's `run` (in shared because
 * the coordinator and the worker never import each other).
 */
export const INPUT_FLAGS = {
    "max-line-bytes": {
        type: "number", default: DEFAULT_MAX_LINE_BYTES,
        describe: "Longest JSONL line accepted, in bytes (up to 268435456); a longer line is an error, never read into memory"
    }
} as const;

/** The parsed values of INPUT_FLAGS (yargs camel-cases them). */
export interface InputFlagValues {
    readonly maxLineBytes: number;
}
