import {classifySettingsSchema, labelSetOf, OrchardError, runTaskOf, type PreparedDocument, type ShardDocument, type ShardJob} from "@orchard/shared";
import type {ShardEngine} from "../fleet/shard-engine.ts";
import {checkedAttributes} from "../fleet/checked-attributes.ts";
import type {DocumentTaskHandler} from "../fleet/task-handlers.ts";
import {classifyDocument, labelChoicePrompt, reaskPrompt, type ClassifyEngine} from "./classify-document.ts";
import type {ClassifySettings} from "./classify-settings.ts";

/**
 * A classify run's document on a fleet worker: classifyDocument, exactly as `orchard extract --task
 * classify` computes it (stage 1 and stage 2 in the same job, on this worker), with the run's labels,
 * label prompt and trailing instruction from the shard job.
 */
export const CLASSIFY_HANDLER: DocumentTaskHandler = {
    kind: "classify",
    // a prompt (stage 1 or a stage 2) that does not fit the run's context: that document's verdict, as for the re-ask
    verdictCodes: ["DOCUMENT_TOO_LONG"],
    /**
     * Checks that every prompt of the document fits the run's context (stage 1 with each label's
     * answer, stage 2 for each label, whichever stage 1 picks): DOCUMENT_TOO_LONG otherwise. Returns
     * the longest of them, so that processShard checks this worker's context against it.
     */
    prompt(document, index, job, engine) {
        const settings = classifySettingsOf(job);
        const prepared = preparedOf(document, index);
        const tokenizer = {tokenizePrompt: (text: string) => engine.tokenizePrompt(text), eosToken: engine.eosToken, options: {contextSize: job.contextSize}};
        const choice = labelChoicePrompt(tokenizer, settings, prepared);
        let longest = [...choice.prefix, ...choice.continuations.reduce((a, b) => (b.length > a.length ? b : a))];
        for (const entry of settings.labelSet.labels) {
            const reask = reaskPrompt(tokenizer, settings, prepared, entry).tokens;
            if (reask.length > longest.length) longest = reask;
        }
        return longest;
    },
    async compute(engine, _tokens, documentId, job, index, document) {
        const classified = await classifyDocument(classifyEngineOf(engine, job, documentId), classifySettingsOf(job), preparedOf(document, index));
        return {...classified.result};
    }
};

/** The job's classify settings, as classifyDocument takes them. */
function classifySettingsOf(job: ShardJob): ClassifySettings {
    const task = runTaskOf(job);
    // processShard picks this handler by the job's kind: another kind here is a bug
    if (task.kind !== "classify") throw new OrchardError("INTERNAL", `the classify handler got a ${task.kind} shard`);
    const settings = classifySettingsSchema.parse(task.settings);
    return {labelSet: labelSetOf(settings), labelPrompt: settings.labelPrompt, prompt: {trailingInstruction: job.trailingInstruction}, truncate: job.truncate, inputFile: job.file};
}

/** The engine as classifyDocument needs it: the run's context size, and the worker's checks of the attribute values. */
function classifyEngineOf(engine: ShardEngine, job: ShardJob, documentId: string): ClassifyEngine {
    return {
        tokenizePrompt: (text) => engine.tokenizePrompt(text),
        eosToken: engine.eosToken,
        options: {contextSize: job.contextSize},
        scoreContinuations: (prefix, continuations) => engine.scoreContinuations(prefix, continuations, documentId),
        extract: async (tokens) => checkedAttributes(await engine.extract(tokens, documentId), documentId)
    };
}

/** The tokenizer helpers take a PreparedDocument; they read only these fields. */
function preparedOf(document: ShardDocument, index: number): PreparedDocument {
    return {index, lineNumber: document.line, doc: {id: document.id, label: 0, document: document.documentText}, documentText: document.documentText, promptText: document.promptText};
}
