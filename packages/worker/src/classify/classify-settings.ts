import {assertLabelPromptTemplate, assertLabelTrailingInstruction, DEFAULT_LABEL_PROMPT, type LabelSet, type PromptSettings} from "@orchard/shared";

/** How a classify task turns a document into its two prompts; resolved once per run. */
export interface ClassifySettings {
    /** The classes, sorted by label. */
    readonly labelSet: LabelSet;
    /** Stage-1 template with {prompt}, {document}, {labels} (DEFAULT_LABEL_PROMPT unless --label-prompt). */
    readonly labelPrompt: string;
    /** The re-ask's trailing instruction, with {label_name} and/or {label} (the rest of the prompt is each document's). */
    readonly prompt: Pick<PromptSettings, "trailingInstruction">;
    /** Cut documents whose prompts do not fit the context instead of failing. */
    readonly truncate: boolean;
    /** The input file as messages name it. */
    readonly inputFile: string;
}

/** Checks the classify-specific settings (INVALID_ARGUMENT for a template that cannot work). */
export function resolveClassifySettings(options: {labelSet: LabelSet; labelPrompt?: string; prompt: PromptSettings; truncate: boolean; inputFile: string}): ClassifySettings {
    const labelPrompt = options.labelPrompt ?? DEFAULT_LABEL_PROMPT;
    assertLabelPromptTemplate(labelPrompt);
    assertLabelTrailingInstruction(options.prompt.trailingInstruction);
    return {labelSet: options.labelSet, labelPrompt, prompt: options.prompt, truncate: options.truncate, inputFile: options.inputFile};
}
