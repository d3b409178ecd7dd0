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

/**
 * Longest output line that inputs read with `maxLineBytes` can give, in bytes: the limit for reading
 * an existing output back (resume, retry-failed). An output line holds its input line's id, label,
 * info and group, a document no longer than the input's (stripped, cut; JSON.stringify never escapes
 * more than the input had to), the prompt text once (from the line or from --prompt-text) and 32
 * attributes (under 32 x 25 bytes): 4 KiB covers the attributes and the keys with room to spare.
 */
export function maxOutputLineBytes(maxLineBytes: number, settings: PromptSettings): number {
    return maxLineBytes + Buffer.byteLength(settings.promptText) + 4096;
}
