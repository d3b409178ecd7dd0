import {z} from "zod";
import {MAX_MAX_LINE_BYTES} from "../jsonl/max-line-bytes.ts";
import type {TaskKind} from "../task/task-kind.ts";
import {runTaskSchema, taskKind} from "../task/task-kinds.ts";
import {failureCodeSchema} from "./failure-codes.ts";
import {machineFactsSchema, machineRequirementSchema} from "../numerics/machine-facts.ts";
import {numericsSettingsSchema} from "../numerics/numerics-settings.ts";

/**
 * Schemas of everything the fleet reads back from Redis (job payloads, results, run records) and
 * from local state files: data entering a process is parsed, never trusted. Types are inferred.
 * Any machine with the Redis URL can write these records, so a schema also refuses what would
 * crash or mislead a reader later: times that are not ISO-8601 (a `new Date()` of them throws on
 * toISOString), unbounded strings and lists, attribute values a real engine cannot produce.
 */

/** Longest name a record may carry (a worker, a host, a CPU model, a queue), in characters. */
export const MAX_NAME_CHARS = 256;
/** Longest message a record may carry (a failure's reason), in characters; writers cut theirs to it. */
export const MAX_MESSAGE_CHARS = 16_384;
/** Latest time a JavaScript Date holds, in ms: a later one makes toISOString() throw. */
export const MAX_TIME_MS = 8.64e15;

/** An ISO-8601 UTC time as `Date.toISOString()` writes it. */
export const isoTimeSchema = z.iso.datetime();
/** A time in ms since the epoch (Redis or local clock) that a Date can hold. */
export const timeMsSchema = z.number().min(0).max(MAX_TIME_MS);
export const nameSchema = z.string().max(MAX_NAME_CHARS);
export const messageSchema = z.string().max(MAX_MESSAGE_CHARS);

export {attributeValueSchema} from "../attributes/attribute-value-schema.ts";

/** Run ids go into job ids and keys: lower-case, digits and dashes (BullMQ forbids ":"). */
export const runIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {error: "a run id is lower-case letters, digits and dashes"});

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

export const promptSettingsSchema = z.object({
    promptText: z.string(),
    trailingInstruction: z.string(),
    useJsonPrompt: z.boolean(),
    combinePromptAndDocument: z.boolean(),
    dropPrompt: z.boolean(),
    maxDocumentChars: positiveInt
});

/** One document of a shard, as the worker prompts it (the coordinator keeps the rest of the line). */
export const shardDocumentSchema = z.object({
    id: z.string(),
    /** 1-based line in the input, for messages. */
    line: positiveInt,
    promptText: z.string(),
    documentText: z.string()
});

/** A BullMQ job: consecutive documents of one input, with everything the worker needs to prompt them. */
export const shardJobSchema = z.object({
    v: z.literal(1),
    runId: runIdSchema,
    /** Global shard index across the run's inputs: the merge order and the results field. */
    shard: nonNegativeInt,
    input: nonNegativeInt,
    localShard: nonNegativeInt,
    /** The input file as the user named it, for `file:line` messages. */
    file: z.string(),
    /** Longest prompt (BOS included) in tokens; the run decides it, so that all workers agree. */
    contextSize: positiveInt,
    truncate: z.boolean(),
    trailingInstruction: z.string(),
    /** What to compute for each document; absent (a coordinator before task kinds): the re-ask. */
    task: runTaskSchema.optional(),
    /** The run's numerics: the worker computes with exactly these. Absent (a coordinator before numerics were pinned): the worker's own settings. */
    numerics: numericsSettingsSchema.optional(),
    /** Machines the run accepts; a worker that does not match leaves the shard alone. Absent: any. */
    requires: machineRequirementSchema.optional(),
    documents: z.array(shardDocumentSchema).min(1)
});
export type ShardJob = z.infer<typeof shardJobSchema>;
export type ShardDocument = z.infer<typeof shardDocumentSchema>;

export const documentErrorSchema = z.object({code: failureCodeSchema, message: messageSchema});

/** A document the worker refused for good (e.g. DOCUMENT_TOO_LONG): its verdict instead of a result. */
export const documentErrorResultSchema = z.object({id: z.string(), error: documentErrorSchema});

/**
 * A document's outcome for a task kind: `{id, ...result}` with the kind's result fields (the re-ask's
 * `attributes`), or `{id, error}`. The error comes first: a kind whose result fields are all optional
 * must not swallow a verdict.
 */
export function documentResultSchemaOf(kind: TaskKind) {
    return z.union([documentErrorResultSchema, kind.resultSchema.extend({id: z.string()})]);
}

/** A document's outcome, whatever the kind: a verdict (`error`) or the kind's result fields beside `id`. */
export type DocumentResult =
    | {readonly id: string; readonly error: z.infer<typeof documentErrorSchema>}
    | {readonly id: string; readonly error?: undefined; readonly [field: string]: unknown};

/** What a worker writes back for a shard of a run of `kind`: results only; the coordinator re-reads the input for the rest. */
export function shardResultSchemaOf(kind: TaskKind) {
    return z.object({
        v: z.literal(1),
        runId: runIdSchema,
        shard: nonNegativeInt,
        worker: nameSchema,
        /** Where it was computed; absent from workers before provenance. */
        machine: machineFactsSchema.optional(),
        documents: z.array(documentResultSchemaOf(kind)),
        tokens: nonNegativeInt,
        elapsedMs: z.number().nonnegative()
    });
}
/** A shard's result of a re-ask run (today's kind); shardResultSchemaOf for any. */
export const shardResultSchema = shardResultSchemaOf(taskKind("reask"));
export interface ShardResult {
    readonly v: 1;
    readonly runId: string;
    readonly shard: number;
    readonly worker: string;
    readonly machine?: z.infer<typeof machineFactsSchema> | undefined;
    readonly documents: readonly DocumentResult[];
    readonly tokens: number;
    readonly elapsedMs: number;
}

export const runEngineSchema = z.discriminatedUnion("kind", [
    z.object({kind: z.literal("llama")}),
    /** Fake inference for tests and benchmarks; its own fingerprint keeps it out of real runs. */
    z.object({kind: z.literal("simulated"), tokensPerSecond: z.number().positive()})
]);
export type RunEngine = z.infer<typeof runEngineSchema>;

export const runInputSchema = z.object({
    /** Absolute path. */
    path: z.string(),
    /** As the user named it (messages). */
    displayPath: z.string(),
    sha256: z.string(),
    sizeBytes: nonNegativeInt,
    documents: nonNegativeInt,
    shards: nonNegativeInt,
    /** Absolute path of its output file. */
    output: z.string()
});
export type RunInput = z.infer<typeof runInputSchema>;

/** Everything fixed when a run is created; stored as JSON in the run hash's `spec` field. */
/** How the last shards of each input shrink (ShardPlan's layoutInput in the coordinator). */
export const shardTaperSchema = z.object({divisor: positiveInt, minimum: positiveInt});
export type ShardTaper = z.infer<typeof shardTaperSchema>;

export const runSpecSchema = z.object({
    v: z.literal(1),
    runId: runIdSchema,
    /** Hash of what makes two `orchard run` commands the same run. */
    specKey: z.string(),
    name: z.string().optional(),
    createdAt: isoTimeSchema,
    model: z.object({path: z.string(), fingerprint: z.string(), sizeBytes: nonNegativeInt, name: z.string().optional()}),
    engine: runEngineSchema,
    queueName: z.string(),
    inputs: z.array(runInputSchema).min(1),
    outputDir: z.string(),
    prompt: promptSettingsSchema,
    /** How the run names its outputs (OutputNaming); absent in runs made before it was recorded: "stem" naming, kept when resumed. */
    outputNaming: z.literal("input-name").optional(),
    /** What the run computes per document. Absent in runs made before task kinds, and in re-ask runs (their spec key stays what it was): the re-ask. */
    task: runTaskSchema.optional(),
    truncate: z.boolean(),
    contextSize: positiveInt,
    /** Every setting that changes the numbers (runNumericsOf). Absent in runs made before they were pinned: LEGACY_NUMERICS. */
    numerics: numericsSettingsSchema.optional(),
    /** Machines the run accepts (--require-backend, --require-chip). Absent: any machine. */
    requires: machineRequirementSchema.optional(),
    shardSize: positiveInt,
    /** Absent in runs created before shards tapered: those keep fixed-size shards when resumed. */
    shardTaper: shardTaperSchema.optional(),
    /** Longest input line accepted, in bytes; a resume reads the inputs with the limit they were validated with. Absent in runs created before the limit: 8 MiB. */
    maxLineBytes: positiveInt.max(MAX_MAX_LINE_BYTES).optional(),
    shardAttempts: positiveInt,
    retryDelayMs: nonNegativeInt,
    maxPendingShards: positiveInt
});
export type RunSpec = z.infer<typeof runSpecSchema>;

/**
 * `<state dir>/runs/<runId>.json`: the spec of a run as this machine's coordinator derived it (or
 * checked it when adopting the run). Redis is writable by every worker, so before a coordinator
 * writes any file of a run, the spec in Redis must equal this one.
 */
export const localRunRecordSchema = z.object({
    v: z.literal(1),
    spec: runSpecSchema,
    recordedAt: z.string()
});
export type LocalRunRecord = z.infer<typeof localRunRecordSchema>;

export const RUN_STATUSES = ["running", "incomplete", "completed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The mutable fields of a run hash (Redis returns strings). */
export const runStateSchema = z.object({
    status: z.enum(RUN_STATUSES),
    /** Next global shard to merge: every shard before it is in the outputs (or recorded missing). */
    cursorShard: z.coerce.number().int().nonnegative(),
    /** Durable length of the output of the cursor shard's input. */
    cursorBytes: z.coerce.number().int().nonnegative(),
    mergedDocuments: z.coerce.number().int().nonnegative()
});
export type RunState = z.infer<typeof runStateSchema>;

/** A shard that exhausted its attempts. */
export const shardFailureSchema = z.object({code: failureCodeSchema, message: messageSchema, attempts: nonNegativeInt, at: isoTimeSchema});
export type ShardFailure = z.infer<typeof shardFailureSchema>;

/** Why a worker leaves a run's shards alone (FleetKeys.refusals), as it last said. */
export const shardRefusalSchema = z.object({reason: z.string().max(1_000), atMs: timeMsSchema});
export type ShardRefusal = z.infer<typeof shardRefusalSchema>;

/**
 * Where a merged shard was computed (FleetKeys.provenance): the worker and its machine, and which
 * documents the shard holds (input, first document's 0-based index, count), so that a reader maps a
 * document to its record without the shard arithmetic.
 */
export const shardProvenanceSchema = z.object({
    worker: nameSchema, machine: machineFactsSchema.optional(), input: nonNegativeInt, firstDocument: nonNegativeInt, documents: nonNegativeInt
});
export type ShardProvenance = z.infer<typeof shardProvenanceSchema>;

/** A document left out of the output by a worker's verdict (DOCUMENT_TOO_LONG). */
export const skippedDocumentSchema = z.object({
    id: z.string(), input: nonNegativeInt, index: nonNegativeInt, line: positiveInt, code: failureCodeSchema, message: messageSchema
});
export type SkippedDocument = z.infer<typeof skippedDocumentSchema>;

/** `<state dir>/redis/endpoint.json`: how to reach the embedded Redis, and which coordinator owns it. */
export const embeddedRedisEndpointSchema = z.object({
    pid: positiveInt,
    host: z.string(),
    port: positiveInt,
    password: z.string().optional(),
    ownerPid: positiveInt,
    ownerHost: z.string(),
    startedAt: isoTimeSchema
});
export type EmbeddedRedisEndpoint = z.infer<typeof embeddedRedisEndpointSchema>;
