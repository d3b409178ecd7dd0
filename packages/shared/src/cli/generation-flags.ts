import {DEFAULT_GENERATION_SAMPLING as D} from "../generate/generation-settings.ts";

/**
 * Sampling flags of generation, for `orchard generate` and `orchard run --task generate` (in shared:
 * the coordinator and the worker never import each other). Defaults are llama.cpp's sampling
 * defaults (see DEFAULT_GENERATION_SAMPLING).
 */
export const SAMPLING_FLAGS = {
    "max-tokens": {type: "number", default: D.maxTokens, describe: "Most tokens generated per document; a JSON value not closed by then is reported, never written"},
    "temperature": {type: "number", default: D.temperature, describe: "Sampling temperature; 0 is greedy"},
    "top-p": {type: "number", default: D.topP, describe: "Nucleus sampling; 1 disables it"},
    "top-k": {type: "number", default: D.topK, describe: "Top-k sampling; 0 disables it"},
    "min-p": {type: "number", default: D.minP, describe: "Min-p sampling; 0 disables it"},
    "repetition-penalty": {type: "number", default: D.repetitionPenalty, describe: "Repeat penalty over the last 64 tokens; 1 disables it"},
    "frequency-penalty": {type: "number", default: D.frequencyPenalty, describe: "Penalty per earlier occurrence of a token; 0 disables it"},
    "presence-penalty": {type: "number", default: D.presencePenalty, describe: "Penalty for any earlier occurrence of a token; 0 disables it"},
    "seed": {type: "number", default: D.seed, describe: "Run seed: each document samples with sha256(seed, id)'s first 4 bytes, whatever its position"}
} as const;

/** What each generation's message and output are made of: the same flags on `generate` and `run --task generate`. */
export const GENERATION_FLAGS = {
    "template": {type: "string", describe: "User message with {field} placeholders filled from each line ({{ and }} for literal braces)"},
    "prompt-field": {type: "string", describe: "Input field holding each line's user message (instead of --template)"},
    "system": {type: "string", describe: "Text put before each user message, a blank line between (Mixtral has no system role)"},
    "json-schema": {type: "string", describe: "JSON schema file: every completion is constrained to it; the parsed value goes in \"json\""},
    "output-format": {type: "string", choices: ["generated", "reexpress"], default: "generated", describe: "generated: input fields + completion, json, finish, tokens; reexpress: id, label, document"},
    "document-from": {type: "string", describe: "reexpress: the document is the \"completion\" (default) or \"json.<field>\""},
    "label-from": {type: "string", describe: "reexpress: the integer label is an input field or \"json.<field>\""}
} as const;

/** The parsed values of GENERATION_FLAGS and SAMPLING_FLAGS (yargs camel-cases them). */
export interface GenerationFlagValues {
    readonly template?: string | undefined;
    readonly promptField?: string | undefined;
    readonly system?: string | undefined;
    readonly jsonSchema?: string | undefined;
    readonly outputFormat: string;
    readonly documentFrom?: string | undefined;
    readonly labelFrom?: string | undefined;
    readonly maxTokens: number;
    readonly temperature: number;
    readonly topP: number;
    readonly topK: number;
    readonly minP: number;
    readonly repetitionPenalty: number;
    readonly frequencyPenalty: number;
    readonly presencePenalty: number;
    readonly seed: number;
}
