import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import type {Redis} from "ioredis";
import {readDataset} from "../dataset/dataset-reader.ts";
import type {PreparedDocument} from "../dataset/prepared-document.ts";
import {OrchardError} from "../errors/orchard-error.ts";
import {FleetKeys} from "../fleet/fleet-keys.ts";
import {runSpecSchema, shardProvenanceSchema, type RunSpec, type ShardProvenance} from "../fleet/fleet-schemas.ts";
import {DEFAULT_MAX_LINE_BYTES} from "../jsonl/max-line-bytes.ts";
import {inputLineReaderOf, runTaskOf} from "../task/task-kinds.ts";

/** One document of a run and the machine that computed it (`orchard provenance RUN`, one JSON line each). */
export interface DocumentProvenance {
    readonly id: string;
    /** The input as the run names it. */
    readonly file: string;
    /** 0-based index of the document in its input (blank lines not counted), and its 1-based line. */
    readonly index: number;
    readonly line: number;
    /** Null where no merged shard holds it (failed, or not merged yet). */
    readonly worker: string | null;
    readonly host: string | null;
    readonly chip: string | null;
    readonly backend: string | null;
    readonly nodeLlamaCpp: string | null;
    readonly llamaCpp: string | null;
}

/** A run's spec and its per-shard provenance records, read from Redis and checked (RUN_NOT_FOUND, RECORD_INVALID). Invalid records go to `onInvalid`. */
export async function readRunProvenance(redis: Redis, keys: FleetKeys, runId: string, onInvalid?: (error: OrchardError) => void): Promise<{spec: RunSpec; shards: Map<number, ShardProvenance>}> {
    const text = await redis.hget(keys.run(runId), "spec");
    if (text === null) throw new OrchardError("RUN_NOT_FOUND", `no run "${runId}" in this Redis (key prefix "${keys.prefix}"); check --redis and --redis-prefix`);
    const spec = runSpecSchema.safeParse(safeJson(text));
    if (!spec.success) throw new OrchardError("RECORD_INVALID", `run ${runId}'s spec in Redis is invalid`);
    return {spec: spec.data, shards: parseShardProvenance(runId, await redis.hgetall(keys.provenance(runId)), onInvalid)};
}

/** The records of a provenance hash (shard -> JSON); a record that fails its schema is left out and reported. */
export function parseShardProvenance(runId: string, fields: Record<string, string>, onInvalid?: (error: OrchardError) => void): Map<number, ShardProvenance> {
    const records = new Map<number, ShardProvenance>();
    for (const [field, text] of Object.entries(fields)) {
        const shard = Number(field);
        const parsed = shardProvenanceSchema.safeParse(safeJson(text));
        if (Number.isSafeInteger(shard) && shard >= 0 && parsed.success) records.set(shard, parsed.data);
        else onInvalid?.(new OrchardError("RECORD_INVALID", `run ${runId}'s provenance record of shard ${field.slice(0, 40)} is invalid`));
    }
    return records;
}

/**
 * Every document of a run, in input order, as the run prompts it, with where it was computed. The
 * inputs are read as the run read them, after checking that they are still the files it was made
 * from (SHA-256): a changed input would name other documents.
 */
export async function* documentsWithProvenance(spec: RunSpec, shards: ReadonlyMap<number, ShardProvenance>): AsyncGenerator<{document: PreparedDocument; provenance: DocumentProvenance}> {
    const task = runTaskOf(spec);
    for (const [inputIndex, input] of spec.inputs.entries()) {
        if (await fileSha256(input.path) !== input.sha256)
            throw new OrchardError("INVALID_ARGUMENT", `${input.displayPath} changed since run ${spec.runId} started: its documents cannot be matched to the run's records`);
        // this input's records by first document, so that a pointer walks them with the documents
        const records = [...shards.values()].filter((record) => record.input === inputIndex).sort((a, b) => a.firstDocument - b.firstDocument);
        let next = 0;
        for await (const document of readDataset(input.path, spec.prompt, undefined, {maxLineBytes: spec.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, lineReader: inputLineReaderOf(task)})) {
            while (next < records.length && (records[next] as ShardProvenance).firstDocument + (records[next] as ShardProvenance).documents <= document.index) next++;
            const record = records[next];
            const covers = record !== undefined && record.firstDocument <= document.index;
            const machine = covers ? record.machine : undefined;
            yield {
                document,
                provenance: {
                    id: document.doc.id, file: input.displayPath, index: document.index, line: document.lineNumber,
                    worker: covers ? record.worker : null, host: machine?.host ?? null, chip: machine?.chip ?? null, backend: machine?.backend ?? null,
                    nodeLlamaCpp: machine?.nodeLlamaCpp ?? null, llamaCpp: machine?.llamaCpp ?? null
                }
            };
        }
    }
}

/** `documentsWithProvenance` without the documents: what `orchard provenance` prints. */
export async function* documentProvenance(spec: RunSpec, shards: ReadonlyMap<number, ShardProvenance>): AsyncGenerator<DocumentProvenance> {
    for await (const {provenance} of documentsWithProvenance(spec, shards)) yield provenance;
}

async function fileSha256(path: string): Promise<string> {
    const hash = createHash("sha256");
    try {
        for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `${path}: cannot read the run's input: ${(error as Error).message}`, {cause: error});
    }
    return hash.digest("hex");
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}
