import {OrchardError} from "../errors/orchard-error.ts";
import {DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION, type PromptSettings} from "./reask-prompt.ts";

/** How documents become prompts and output lines, as a user gives it (`extract` and `run` flags). */
export interface PromptOptions {
    /** Instruction before each document. Default DEFAULT_PROMPT_TEXT. */
    readonly promptText?: string;
    /** Question after each document, before "Yes or No?". Default DEFAULT_TRAILING_INSTRUCTION. */
    readonly trailingInstruction?: string;
    /** Take the instruction from each line's `prompt` field. Default false. */
    readonly useJsonPrompt?: boolean;
    /** Output `prompt + " " + document` as the document. Default false. */
    readonly combinePromptAndDocument?: boolean;
    /** Leave the `prompt` field out of the output. Default false. */
    readonly dropPrompt?: boolean;
    /** Documents are stripped and cut to this many characters (code points). Default 4800. */
    readonly maxDocumentChars?: number;
}

/**
 * Checks the settings that need no file access; every problem is a user mistake (INVALID_ARGUMENT).
 * Lives in shared so that `extract` and the fleet's `run` accept and reject exactly the same settings.
 */
export function resolvePromptSettings(options: PromptOptions): PromptSettings {
    const promptText = options.promptText ?? DEFAULT_PROMPT_TEXT;
    const trailingInstruction = options.trailingInstruction ?? DEFAULT_TRAILING_INSTRUCTION;
    const useJsonPrompt = options.useJsonPrompt ?? false;
    const combinePromptAndDocument = options.combinePromptAndDocument ?? false;
    const dropPrompt = options.dropPrompt ?? false;
    const maxDocumentChars = options.maxDocumentChars ?? DEFAULT_MAX_DOCUMENT_CHARS;
    if (!useJsonPrompt && promptText.trim() === "")
        throw new OrchardError("INVALID_ARGUMENT", "--prompt-text is empty: give the instruction placed before each document (or --use-json-prompt)");
    if (trailingInstruction.trim() === "")
        throw new OrchardError("INVALID_ARGUMENT", "--trailing-instruction is empty: give the question placed after each document");
    if (combinePromptAndDocument && dropPrompt)
        throw new OrchardError("INVALID_ARGUMENT", "--combine-prompt-and-document and --drop-prompt exclude each other: choose one");
    if (!Number.isInteger(maxDocumentChars) || maxDocumentChars <= 0)
        throw new OrchardError("INVALID_ARGUMENT", `--max-document-chars must be a positive integer (got ${maxDocumentChars})`);
    return {promptText, trailingInstruction, useJsonPrompt, combinePromptAndDocument, dropPrompt, maxDocumentChars};
}
