import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import {stat} from "node:fs/promises";
import {resolve} from "node:path";
import {OrchardError, readDataset, type DatasetStart, type PreparedDocument, type PromptSettings} from "@orchard/shared";
import type {PlannedShard} from "./shard-plan.ts";

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
    /** Where each shard's first document starts (one entry per `shardSize` documents: ~12 bytes per shard). */
    readonly shardStarts: readonly DatasetStart[];
}

/**
 * Reads a whole input once, as `extract` does before writing anything: schema, duplicate ids,
 * --use-json-prompt (readDataset throws InputValidationError listing the problems), while hashing
 * the file and noting where each shard starts, so shards can later be read without rescanning.
 * Prompt lengths are checked by the workers, which hold the tokenizer (see the README).
 */
export async function scanInput(displayPath: string, settings: PromptSettings, shardSize: number): Promise<ScannedInput> {
    const path = resolve(displayPath);
    const hashing = hashFile(path);
    hashing.catch(() => undefined); // readDataset reports a missing file first, with the right error
    const shardStarts: DatasetStart[] = [];
    let documents = 0;
    for await (const prepared of readDataset(displayPath, settings)) {
        if (prepared.index % shardSize === 0)
            shardStarts.push({byteOffset: prepared.byteOffset ?? 0, lineNumber: prepared.lineNumber, index: prepared.index});
        documents++;
    }
    const sha256 = await hashing;
    return {path, displayPath, sha256, sizeBytes: (await stat(path)).size, documents, shardStarts};
}

/** The documents of one shard, read from where the scan found it starts. */
export async function readShardDocuments(path: string, settings: PromptSettings, shard: PlannedShard): Promise<PreparedDocument[]> {
    if (shard.start === undefined) throw new OrchardError("INTERNAL", `shard ${shard.global} has no start position`);
    const documents: PreparedDocument[] = [];
    const reader = readDataset(path, settings, shard.start);
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

export function hashFile(path: string): Promise<string> {
    return new Promise((resolveHash, reject) => {
        const hash = createHash("sha256");
        createReadStream(path).on("error", reject).on("data", (chunk) => hash.update(chunk)).on("end", () => resolveHash(hash.digest("hex")));
    });
}
