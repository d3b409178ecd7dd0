import type {ExtractOptions} from "../extract/extract-options.ts";

/** `orchard extract --task classify`'s options: extract's, plus these. */
export interface ClassifyJobOptions extends ExtractOptions {
    /** Reexpress's label display names file (`{"label": 0, "name": "…"}` per line). */
    readonly labelsPath: string;
    /** Stage-1 prompt template with {prompt}, {document}, {labels}. Default DEFAULT_LABEL_PROMPT. */
    readonly labelPrompt?: string;
    /** Predictions JSONL. Default: predictionsPathFor(outputPath). */
    readonly predictionsPath?: string;
}

/**
 * The default predictions file next to an attributes file: `x.attributes.jsonl` ->
 * `x.predictions.jsonl`, any other name gets `.predictions.jsonl` appended (`out.jsonl` ->
 * `out.jsonl.predictions.jsonl`), so it never replaces the attributes file.
 */
export function predictionsPathFor(outputPath: string): string {
    const suffix = ".attributes.jsonl";
    return outputPath.endsWith(suffix) ? outputPath.slice(0, -suffix.length) + ".predictions.jsonl" : outputPath + ".predictions.jsonl";
}
