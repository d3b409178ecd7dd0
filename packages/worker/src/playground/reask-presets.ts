import {DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION} from "@orchard/shared";

/** A prompt and trailing instruction the page offers ready-made. */
export interface ReaskPreset {
    readonly name: string;
    readonly promptText: string;
    readonly trailingInstruction: string;
}

/**
 * The tutorials' two tasks: sentiment (extract's default prompt, README "Prompt flags") and
 * fact-checking of single-sentence statements (the SAPLMA tutorial's prompt, issue 11).
 */
export const REASK_PRESETS: readonly ReaskPreset[] = [
    {name: "Sentiment", promptText: DEFAULT_PROMPT_TEXT, trailingInstruction: DEFAULT_TRAILING_INSTRUCTION},
    {
        name: "Fact check", promptText: "Given the following document, please answer the question. Document:",
        trailingInstruction: "Question: Does the previous document contain correct information and is it well-written?"
    }
];
