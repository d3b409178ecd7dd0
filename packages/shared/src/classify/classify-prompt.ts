import {OrchardError} from "../errors/orchard-error.ts";
import type {LabelEntry} from "./label-set.ts";

/**
 * Default --label-prompt: stage 1 of a classify task, in Mixtral-Instruct's chat format (the
 * tokenizer caller prepends BOS; the model's answer follows `[/INST]` and ends with EOS).
 * `{prompt}` is the instruction (--prompt-text or the line's prompt), `{document}` the document,
 * `{labels}` the label names, each on its own line.
 */
export const DEFAULT_LABEL_PROMPT =
    "[INST] {prompt} {document}\nAnswer with exactly one of these labels, and nothing else:\n{labels} [/INST]";

const LABEL_PROMPT_FIELDS = /\{(prompt|document|labels)\}/g;
const LABEL_FIELDS = /\{(label_name|label)\}/g;

/** Checks a --label-prompt template: it must place the document (INVALID_ARGUMENT otherwise). */
export function assertLabelPromptTemplate(template: string): void {
    if (!template.includes("{document}"))
        throw new OrchardError("INVALID_ARGUMENT", "--label-prompt has no {document}: the model must see the document to choose its label");
}

/** Checks that a classify task's --trailing-instruction uses the predicted label. */
export function assertLabelTrailingInstruction(trailingInstruction: string): void {
    if (!/\{(label_name|label)\}/.test(trailingInstruction))
        throw new OrchardError("INVALID_ARGUMENT",
            "--trailing-instruction has no {label_name} or {label}: with --task classify the re-ask asks about the predicted label " +
            "(e.g. --trailing-instruction \"Is the sentiment of the review {label_name}?\")");
}

/**
 * The stage-1 prompt of one document (no BOS). Fields are replaced in one pass, so a document
 * that contains "{labels}" stays as written.
 */
export function buildLabelPrompt(template: string, promptText: string, documentText: string, labels: readonly LabelEntry[]): string {
    const values: Record<string, string> = {prompt: promptText, document: documentText, labels: labels.map((entry) => entry.name).join("\n")};
    return template.replace(LABEL_PROMPT_FIELDS, (_match, field: string) => values[field] as string);
}

/** The answer whose probability stage 1 scores for a label: a space, then the name, after `[/INST]`. */
export function labelAnswerText(entry: LabelEntry): string {
    return ` ${entry.name}`;
}

/** A classify task's re-ask question for the predicted label: `{label_name}` -> its name, `{label}` -> its integer, in one pass. */
export function substituteLabel(trailingInstruction: string, entry: LabelEntry): string {
    return trailingInstruction.replace(LABEL_FIELDS, (_match, field: string) => (field === "label" ? String(entry.label) : entry.name));
}
