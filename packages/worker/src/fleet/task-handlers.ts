import {ATTRIBUTE_COUNT, attributeValueSchema, OrchardError, type FailureCode, type PreparedDocument, type ShardDocument, type ShardJob, type TaskKindName} from "@orchard/shared";
import {tokenizeDocumentPrompt} from "../extract/prompt-tokenizer.ts";
import {GENERATE_HANDLER} from "./generate-handler.ts";
import type {ShardEngine} from "./shard-engine.ts";

/**
 * How a fleet worker computes one document of a task kind: the worker's half of a kind (the
 * coordinator's half is shared's TaskKind: settings, result schema, output line). processShard does
 * the rest for every kind: scheduling on the engine's contexts, verdicts, the result's schema check.
 */
export interface DocumentTaskHandler {
    readonly kind: TaskKindName;
    /**
     * Codes that are a document's verdict, not a failure of the shard: thrown by `prompt` or `compute`
     * (an OrchardError or a DocumentVerdict with one of them), the document is recorded missing with
     * it and the shard goes on; any other error fails the shard (the queue retries it).
     */
    readonly verdictCodes: readonly FailureCode[];
    /** Tokens the worker's context needs beyond the prompt (the generate task's --max-tokens). Default 0. */
    reservedTokens?(job: ShardJob): number;
    /**
     * Tokens a computed document counts for in the shard's `tokens` (the fleet's tokens/s). Default:
     * its prompt's (the re-ask evaluates prompts); the generate task counts the tokens it generated.
     */
    countedTokens?(promptTokens: number, result: Record<string, unknown>): number;
    /**
     * The document's prompt, tokenized (BOS first). Throws DOCUMENT_TOO_LONG when it does not fit the
     * run's context: that document's verdict, not a failure of the shard.
     */
    prompt(document: ShardDocument, index: number, job: ShardJob, engine: ShardEngine): number[];
    /** The document's result fields (without its id); processShard checks them against the kind's result schema. */
    compute(engine: ShardEngine, tokens: readonly number[], documentId: string, job: ShardJob, document: ShardDocument): Promise<Record<string, unknown>>;
}

/** The re-ask: shared's re-ask prompt through the same tokenizer helper as `extract`, then the engine's 32 attributes. */
const REASK_HANDLER: DocumentTaskHandler = {
    kind: "reask",
    verdictCodes: ["DOCUMENT_TOO_LONG"],
    prompt(document, index, job, engine) {
        // the tokenizer helper takes a PreparedDocument; it reads only these fields
        const prepared: PreparedDocument = {index, lineNumber: document.line, doc: {id: document.id, label: 0, document: document.documentText}, documentText: document.documentText, promptText: document.promptText};
        return tokenizeDocumentPrompt(prepared, job.trailingInstruction, (text) => engine.tokenizePrompt(text), {contextSize: job.contextSize, truncate: job.truncate, file: job.file}).tokens;
    },
    async compute(engine, tokens, documentId) {
        return {attributes: checkedAttributes(await engine.extract(tokens, documentId), documentId)};
    }
};

/** The worker's task registry: a new kind adds its handler here (and its TaskKind in shared). */
const HANDLERS: {readonly [K in TaskKindName]: DocumentTaskHandler} = {
    reask: REASK_HANDLER,
    generate: GENERATE_HANDLER
};

export function taskHandler(kind: TaskKindName): DocumentTaskHandler {
    return HANDLERS[kind];
}

/**
 * The engine's values if the coordinator will accept them (ATTRIBUTE_COUNT values, each finite, in
 * [-2, 2] and a float32: the re-ask's result schema). A broken backend's NaN fails the attempt here, where
 * BullMQ retries it on this or another worker, instead of a result the coordinator would reject.
 */
function checkedAttributes(attributes: number[], id: string): number[] {
    const bad = attributes.find((value) => !attributeValueSchema.safeParse(value).success);
    if (attributes.length !== ATTRIBUTE_COUNT || bad !== undefined)
        throw new OrchardError("ENGINE_FAILED", attributes.length !== ATTRIBUTE_COUNT
            ? `the engine returned ${attributes.length} attribute values for document "${id}", not ${ATTRIBUTE_COUNT}`
            : `the engine returned an invalid attribute value for document "${id}": ${bad} (values are finite float32s in [-2, 2])`, {retryable: true});
    return attributes;
}
