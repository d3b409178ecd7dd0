import {
    DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION, OrchardError, type Logger, type PromptSettings
} from "@orchard/shared";
import type {ExtractionEngineOptions} from "../engine/extraction-engine-options.ts";

export interface ExtractOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
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
    /** Cut documents whose prompt exceeds the context instead of failing. Default false. */
    readonly truncate?: boolean;
    /** Replace an output that belongs to another input instead of failing. Default false. */
    readonly overwrite?: boolean;
    /** Engine settings other than the model path. */
    readonly engine?: Omit<ExtractionEngineOptions, "modelPath" | "logger">;
    readonly logger?: Logger;
}

export interface ResolvedExtractOptions {
    readonly modelPath: string;
    readonly inputPath: string;
    readonly outputPath: string;
    readonly prompt: PromptSettings;
    readonly truncate: boolean;
    readonly overwrite: boolean;
    readonly engine: ExtractionEngineOptions;
    readonly logger: Logger | undefined;
}

/** Checks the settings that need no file access; every problem is a user mistake (INVALID_ARGUMENT). */
export function resolvePromptSettings(options: Pick<ExtractOptions, "promptText" | "trailingInstruction" | "useJsonPrompt" | "combinePromptAndDocument" | "dropPrompt" | "maxDocumentChars">): PromptSettings {
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

export function resolveExtractOptions(options: ExtractOptions): ResolvedExtractOptions {
    return {
        modelPath: options.modelPath,
        inputPath: options.inputPath,
        outputPath: options.outputPath,
        prompt: resolvePromptSettings(options),
        truncate: options.truncate ?? false,
        overwrite: options.overwrite ?? false,
        engine: {...options.engine, modelPath: options.modelPath, ...(options.logger ? {logger: options.logger} : {})},
        logger: options.logger
    };
}
