import type {FailureCode, PreparedDocument, ShardDocument, ShardJob, TaskKindName} from "@orchard/shared";
import {tokenizeDocumentPrompt} from "../extract/prompt-tokenizer.ts";
import {CLASSIFY_HANDLER} from "../classify/classify-task-handler.ts";
import {checkedAttributes} from "./checked-attributes.ts";
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
    /**
     * The document's result fields (without its id); processShard checks them against the kind's result schema.
     * `index` is the document's place in `job.documents` and `document` the document there (for a kind
     * whose computation needs more than the prompt's tokens: classify's two stages, generate's message).
     */
    compute(engine: ShardEngine, tokens: readonly number[], documentId: string, job: ShardJob, index: number, document: ShardDocument): Promise<Record<string, unknown>>;
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
    async compute(engine, tokens, documentId, _job, _index, document) {
        return {attributes: checkedAttributes(await engine.extract(tokens, documentId, document.promptText), documentId)};
    }
};

/** The worker's task registry: a new kind adds its handler here (and its TaskKind in shared). */
const HANDLERS: {readonly [K in TaskKindName]: DocumentTaskHandler} = {
    reask: REASK_HANDLER,
    classify: CLASSIFY_HANDLER,
    generate: GENERATE_HANDLER
};

export function taskHandler(kind: TaskKindName): DocumentTaskHandler {
    return HANDLERS[kind];
}
