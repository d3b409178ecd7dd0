import {z} from "zod";
import {ATTRIBUTE_COUNT} from "../attributes/attribute-definitions.ts";
import {attributeValueSchema} from "../attributes/attribute-value-schema.ts";
import {labelLineSchema, type LabelSet} from "../classify/label-set.ts";
import {classifyResultSchema, formatPredictionLine, type ClassifyResult} from "../classify/prediction-line.ts";
import {formatOutputLine, maxOutputLineBytes} from "../dataset/output-line.ts";
import {namedOutputFile} from "./output-naming.ts";
import type {TaskKind} from "./task-kind.ts";

/**
 * A classify run's own settings, read and validated by the coordinator from the labels file and
 * carried in the spec and every shard job. The re-ask's trailing instruction (with {label_name} /
 * {label}), prompt and context are the run's, as for the re-ask.
 */
export const classifySettingsSchema = z.object({
    /** The labels file as the user named it, for messages. */
    labelsFile: z.string(),
    /** The classes, sorted by label, each label and name once (as readLabelSet returns them). */
    labels: z.array(labelLineSchema).min(2)
        .refine((labels) => labels.every((entry, i) => i === 0 || entry.label > (labels[i - 1] as {label: number}).label), {error: "labels must be sorted by label, each once"})
        .refine((labels) => new Set(labels.map((entry) => entry.name.trim())).size === labels.length, {error: "label names must differ"}),
    /** Stage-1 prompt template with {prompt}, {document}, {labels}. */
    labelPrompt: z.string()
});
export type ClassifyTaskSettings = z.infer<typeof classifySettingsSchema>;

/** A classify document's result as the fleet carries it: the attribute values are checked as the re-ask's. */
export const classifyTaskResultSchema = classifyResultSchema.extend({attributes: z.array(attributeValueSchema).length(ATTRIBUTE_COUNT)});

/** The LabelSet of a run's classify settings. */
export function labelSetOf(settings: ClassifyTaskSettings): LabelSet {
    return {file: settings.labelsFile, labels: settings.labels};
}

/**
 * Multi-class re-ask: stage 1 picks one of the labels, stage 2 is the re-ask about that label. Two
 * outputs per input, exactly what `orchard extract --task classify` writes: the main one is the
 * attributes file (`<input file name>.attributes.jsonl`), the companion the predictions file (`<input file name>.predictions.jsonl`: `id`,
 * `predicted_label`, `predicted_name`, `probabilities`).
 */
export const CLASSIFY_TASK: TaskKind<ClassifyTaskSettings, ClassifyResult> = {
    name: "classify",
    settingsSchema: classifySettingsSchema,
    resultSchema: classifyTaskResultSchema,
    outputFileName: (inputFileName, naming) => namedOutputFile(inputFileName, ".attributes.jsonl", naming),
    formatOutputLine: (document, result, prompt) => formatOutputLine(document, result.attributes, prompt),
    maxOutputLineBytes: (maxLineBytes, prompt) => maxOutputLineBytes(maxLineBytes, prompt),
    companionOutputs: [{
        fileName: (inputFileName, naming) => namedOutputFile(inputFileName, ".predictions.jsonl", naming),
        formatLine: (document, result, _prompt, settings) => formatPredictionLine(document.doc.id, result, labelSetOf(settings)),
        // the id (at most the input line), a probability per label (under 32 bytes each with its key), the name once
        maxLineBytes: (maxLineBytes, settings) => maxLineBytes + Buffer.byteLength(JSON.stringify(settings.labels)) + 48 * settings.labels.length + 4096
    }],
    checkResult(result, settings) {
        const index = settings.labels.findIndex((entry) => entry.label === result.predictedLabel);
        if (index === -1 || settings.labels[index]?.name !== result.predictedName)
            return `the predicted label ${result.predictedLabel} (${JSON.stringify(result.predictedName)}) is not one of the run's labels`;
        if (result.probabilities.length !== settings.labels.length) return `${result.probabilities.length} probabilities for ${settings.labels.length} labels`;
        return undefined;
    }
};
