import {pythonStrip, takeCodePoints} from "../text/python-strip.ts";
import type {InputDocument} from "../schemas/input-document-schema.ts";

/** Default --prompt-text: the instruction placed before the document. */
export const DEFAULT_PROMPT_TEXT = "Please classify the sentiment of the following review. Review:";
/** Default --trailing-instruction: the question placed after the document. */
export const DEFAULT_TRAILING_INSTRUCTION = "Does the review express a positive sentiment?";
/** Default --max-document-chars (code points, as the seed script counted). */
export const DEFAULT_MAX_DOCUMENT_CHARS = 4800;

/** How a dataset's documents become re-ask prompts and output lines; resolved once per run. */
export interface PromptSettings {
    /** Instruction before the document, unless `useJsonPrompt` takes it from each line. */
    readonly promptText: string;
    /** Question after the document, before "Yes or No?". */
    readonly trailingInstruction: string;
    /** Take the instruction from each line's `prompt` field instead of `promptText`. */
    readonly useJsonPrompt: boolean;
    /** Output: write `prompt + " " + document` as the document and no `prompt` field. */
    readonly combinePromptAndDocument: boolean;
    /** Output: leave the `prompt` field out. */
    readonly dropPrompt: boolean;
    /** Documents are stripped and cut to this many code points before use. */
    readonly maxDocumentChars: number;
}

/** The document text as the model sees it and the output stores it: stripped, then cut. */
export function prepareDocumentText(document: string, maxDocumentChars: number): string {
    return takeCodePoints(pythonStrip(document), maxDocumentChars);
}

/** The instruction used for one document (from the line or from the settings). */
export function effectivePromptText(doc: Pick<InputDocument, "prompt">, settings: PromptSettings): string {
    return settings.useJsonPrompt ? (doc.prompt ?? "") : settings.promptText;
}

/**
 * The Mixtral instruct re-ask prompt, without BOS (the tokenizer caller prepends it):
 * `[INST] How can I help you?\n{prompt} {document} {trailing} Yes or No? [/INST]`.
 */
export function buildReaskPrompt(promptText: string, documentText: string, trailingInstruction: string): string {
    return `${buildReaskPrefix(promptText)} ${documentText} ${trailingInstruction} Yes or No? [/INST]`;
}

/**
 * The part of every re-ask prompt of `promptText` before its document (no BOS): the same for every
 * document of a run, so the engine can evaluate it once per context (prefix reuse). A prompt's
 * tokens start with this text's tokens only when the tokenizer does not merge across the boundary:
 * the engine checks that per document.
 */
export function buildReaskPrefix(promptText: string): string {
    return `[INST] How can I help you?\n${promptText}`;
}
