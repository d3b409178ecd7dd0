import {DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION} from "../prompt/reask-prompt.ts";
import type {PromptOptions} from "../prompt/resolve-prompt-settings.ts";

/**
 * Flags shared by `extract` and the fleet's `run`: how documents become prompts and output lines.
 * In shared because the coordinator and the worker never import each other.
 */
export const PROMPT_FLAGS = {
    "prompt-text": {alias: "prompt_text", type: "string", default: DEFAULT_PROMPT_TEXT, describe: "Instruction placed before each document"},
    "trailing-instruction": {alias: "trailing_instruction", type: "string", default: DEFAULT_TRAILING_INSTRUCTION, describe: "Question placed after each document, before \"Yes or No?\""},
    "use-json-prompt": {alias: "use_json_prompt", type: "boolean", default: false, describe: "Take the instruction from each line's \"prompt\" field instead of --prompt-text"},
    "combine-prompt-and-document": {
        alias: "combine_the_prompt_and_document_fields_in_json_output", type: "boolean", default: false,
        describe: "Output \"<prompt> <document>\" as the document, without a prompt field"
    },
    "drop-prompt": {alias: "drop_the_prompt_in_json_output", type: "boolean", default: false, describe: "Leave the prompt field out of the output"},
    "max-document-chars": {type: "number", default: DEFAULT_MAX_DOCUMENT_CHARS, describe: "Documents are stripped and cut to this many characters"},
    "truncate": {type: "boolean", default: false, describe: "Cut documents whose prompt is longer than the context instead of failing"}
} as const;

/** The parsed values of PROMPT_FLAGS (yargs camel-cases them). */
export interface PromptFlagValues {
    readonly promptText: string;
    readonly trailingInstruction: string;
    readonly useJsonPrompt: boolean;
    readonly combinePromptAndDocument: boolean;
    readonly dropPrompt: boolean;
    readonly maxDocumentChars: number;
    readonly truncate: boolean;
}

/** The prompt options (and --truncate) of parsed PROMPT_FLAGS, for `extract` and `run` alike. */
export function promptOptionsFromArgs(args: PromptFlagValues): PromptOptions & {readonly truncate: boolean} {
    return {
        promptText: args.promptText,
        trailingInstruction: args.trailingInstruction,
        useJsonPrompt: args.useJsonPrompt,
        combinePromptAndDocument: args.combinePromptAndDocument,
        dropPrompt: args.dropPrompt,
        maxDocumentChars: args.maxDocumentChars,
        truncate: args.truncate
    };
}
