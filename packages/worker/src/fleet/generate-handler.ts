import {formatGenerateOutputLine, OrchardError, type GenerateSettings, type ShardJob} from "@orchard/shared";
import {DocumentVerdict} from "./document-verdict.ts";
import type {DocumentTaskHandler} from "./task-handlers.ts";

/** The run's generate settings, from a job of a generate run. */
function settingsOf(job: ShardJob): GenerateSettings {
    if (job.task?.kind !== "generate") throw new OrchardError("INTERNAL", `shard ${job.shard} is not a generate job`);
    return job.task.settings;
}

/**
 * The generate task: the document's message (the coordinator filled the template from the input
 * line: the shard document's `documentText`) through the same DocumentGenerator as `orchard
 * generate`, with the document's own seed (documentSeed(run seed, id)), so its completion does not
 * depend on the worker, retries or shard size. A completion that cannot be written whole is that
 * document's verdict.
 */
export const GENERATE_HANDLER: DocumentTaskHandler = {
    kind: "generate",
    verdictCodes: ["DOCUMENT_TOO_LONG", "GENERATION_TRUNCATED", "JSON_INVALID", "OUTPUT_FIELD_INVALID"],
    reservedTokens: (job) => settingsOf(job).sampling.maxTokens,
    // a generate run's tokens/s is generated tokens per second: what generation is measured by
    countedTokens: (_prompt, result) => (result as {tokens: {completion: number}}).tokens.completion,
    prompt(document, _index, job, engine) {
        const settings = settingsOf(job);
        const tokens = engine.generationPromptTokens({id: document.id, message: document.documentText, system: settings.system});
        // as `orchard generate` checks it: the completion must fit beside the prompt
        if (tokens.length + settings.sampling.maxTokens > job.contextSize)
            throw new OrchardError("DOCUMENT_TOO_LONG",
                `prompt of ${tokens.length} tokens plus --max-tokens ${settings.sampling.maxTokens} exceeds the run's context size of ${job.contextSize} (raise --context-size)`);
        return tokens;
    },
    async compute(engine, _tokens, documentId, job, _index, document) {
        const settings = settingsOf(job);
        const generated = await engine.generate({id: documentId, message: document.documentText, system: settings.system}, settings);
        if (!generated.ok) throw new DocumentVerdict(generated.code, generated.reason);
        const result = {completion: generated.completion, ...(generated.json === undefined ? {} : {json: generated.json}), finish: generated.finish, tokens: generated.tokens};
        if (settings.output.format === "reexpress") {
            // the values the Reexpress line takes from the completion (an input field's label was checked by the coordinator's scan)
            const line = formatGenerateOutputLine(settings.output, settings.jsonSchema !== undefined, {id: documentId, fields: inputFieldsStandIn(settings)}, result);
            if (typeof line !== "string") throw new DocumentVerdict(line.code, line.reason);
        }
        return result;
    }
};

/** The worker does not see the input line: an integer stands in for a --label-from input field (the scan checked it is one). */
function inputFieldsStandIn(settings: GenerateSettings): Record<string, unknown> {
    if (settings.output.format !== "reexpress" || settings.output.label.kind !== "input") return {};
    return {[settings.output.label.field]: 0};
}
