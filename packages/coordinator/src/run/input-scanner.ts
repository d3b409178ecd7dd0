import {createHash} from "node:crypto";
import {stat} from "node:fs/promises";
import {resolve} from "node:path";
import {
    DEFAULT_MAX_LINE_BYTES, DEFAULT_RUN_TASK, inputLineReaderOf, OrchardError, readDataset, type DatasetStart, type PreparedDocument, type PromptSettings, type RunSpec,
    type RunTask, type ShardTaper
} from "@orchard/shared";
import {ShardStartCollector, type PlannedShard} from "./shard-plan.ts";

/** An input validated in full, with what sharding and resuming need. */
export interface ScannedInput {
    /** Absolute path. */
    readonly path: string;
    /** As the user named it. */
    readonly displayPath: string;
    /** Hex SHA-256 of the file: a run resumes only over the very same bytes. */
    readonly sha256: string;
    readonly sizeBytes: number;
    readonly documents: number;
    /** Where each shard's first document starts (one entry per shard). */
    readonly shardStarts: readonly DatasetStart[];
}

/**
 * Reads a whole input once, as `extract` does before writing anything: schema, duplicate ids,
 * --use-json-prompt, or the task's own line check such as a --template field missing (readDataset
 * throws InputValidationError listing the problems, `file:line`), while hashing
 * the file and noting where each shard starts, so shards can later be read without rescanning.
 * Prompt lengths are checked by the workers, which hold the tokenizer (see the README).
 */
export async function scanInput(displayPath: string, settings: PromptSettings, shardSize: number, taper: ShardTaper | undefined, maxLineBytes: number, task: RunTask = DEFAULT_RUN_TASK): Promise<ScannedInput> {
    const path = resolve(displayPath);
    // hashed in the scan's own pass: a second stream over the file doubled the read buffers at the scan's peak
    const hash = createHash("sha256");
    const starts = new ShardStartCollector(shardSize, taper);
    let documents = 0;
    for await (const prepared of readDataset(displayPath, settings, undefined, {onChunk: (chunk) => hash.update(chunk), maxLineBytes, lineReader: inputLineReaderOf(task)})) {
        starts.add({byteOffset: prepared.byteOffset ?? 0, lineNumber: prepared.lineNumber, index: prepared.index});
        documents++;
    }
    const shardStarts = starts.starts();
    const sha256 = hash.digest("hex");
    return {path, displayPath, sha256, sizeBytes: (await stat(path)).size, documents, shardStarts};
}

/** The documents of one shard, read from where the scan found it starts. */
export async function readShardDocuments(path: string, settings: PromptSettings, shard: PlannedShard, maxLineBytes: number, task: RunTask = DEFAULT_RUN_TASK): Promise<PreparedDocument[]> {
    if (shard.start === undefined) throw new OrchardError("INTERNAL", `shard ${shard.global} has no start position`);
    const documents: PreparedDocument[] = [];
    const reader = readDataset(path, settings, shard.start, {maxLineBytes, lineReader: inputLineReaderOf(task)});
    try {
        for await (const prepared of reader) {
            documents.push(prepared);
            if (documents.length === shard.documents) break;
        }
    } finally {
        await reader.return(undefined);
    }
    if (documents.length !== shard.documents)
        throw new OrchardError("OUTPUT_MISMATCH", `${path}: shard ${shard.global} should hold ${shard.documents} documents but the file has ${documents.length} there; was the input changed during the run?`);
    return documents;
}

/** The line limit a run's inputs are read with: the one they were validated with when it began. */
export function runMaxLineBytes(spec: Pick<RunSpec, "maxLineBytes">): number {
    return spec.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
}
