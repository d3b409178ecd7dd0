import type {PromptSettings} from "../prompt/reask-prompt.ts";
import type {PreparedDocument} from "./prepared-document.ts";

/**
 * One output JSONL line (no newline), keys in the seed script's order: id, label, document,
 * attributes, then prompt (unless dropped or combined), info, group where present.
 */
export function formatOutputLine(prepared: PreparedDocument, attributes: readonly number[], settings: PromptSettings): string {
    const {doc} = prepared;
    const line: Record<string, unknown> = {
        id: doc.id,
        label: doc.label,
        document: settings.combinePromptAndDocument ? `${prepared.promptText} ${prepared.documentText}` : prepared.documentText,
        attributes
    };
    if (!settings.dropPrompt && !settings.combinePromptAndDocument)
        line["prompt"] = prepared.promptText;
    if (doc.info !== undefined) line["info"] = doc.info;
    if (doc.group !== undefined) line["group"] = doc.group;
    return JSON.stringify(line);
}
