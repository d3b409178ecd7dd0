import {z} from "zod";
import {ATTRIBUTE_COUNT} from "../attributes/attribute-definitions.ts";
import type {LabelSet} from "./label-set.ts";

/**
 * What a classify task computes for one document: the chosen label, the label-choice
 * probabilities (one per label of the LabelSet, in its order, summing to 1) and the 32 attributes
 * of the re-ask built from that label. Checked where it is made, and again wherever it is read back.
 */
export const classifyResultSchema = z.object({
    predictedLabel: z.number().int().nonnegative(),
    predictedName: z.string(),
    probabilities: z.array(z.number().min(0).max(1)).min(2),
    attributes: z.array(z.number().finite()).length(ATTRIBUTE_COUNT)
});

export type ClassifyResult = z.infer<typeof classifyResultSchema>;

/**
 * One predictions JSONL line (no newline): `id`, `predicted_label`, `predicted_name`,
 * `probabilities` (an object from each label, as a string key in ascending order, to its
 * probability).
 */
export function formatPredictionLine(id: string, result: Pick<ClassifyResult, "predictedLabel" | "predictedName" | "probabilities">, labelSet: LabelSet): string {
    const probabilities: Record<string, number> = {};
    labelSet.labels.forEach((entry, i) => (probabilities[String(entry.label)] = result.probabilities[i] as number));
    return JSON.stringify({id, predicted_label: result.predictedLabel, predicted_name: result.predictedName, probabilities});
}

/**
 * Reads back a predictions line written for `labelSet` (resume): the result it holds, or
 * undefined when it is not such a line (other labels, a label outside the set, a name that is not
 * the label's). Formatting the result again must give the same bytes; the caller compares.
 */
export function parsePredictionLine(text: string, labelSet: LabelSet): {id: string; result: Pick<ClassifyResult, "predictedLabel" | "predictedName" | "probabilities">} | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return undefined;
    }
    const parsed = predictionLineSchema.safeParse(value);
    if (!parsed.success) return undefined;
    const {id, predicted_label: predictedLabel, predicted_name: predictedName, probabilities} = parsed.data;
    const entry = labelSet.labels.find((candidate) => candidate.label === predictedLabel);
    if (entry === undefined || entry.name !== predictedName) return undefined;
    const values = labelSet.labels.map((candidate) => probabilities[String(candidate.label)]);
    if (Object.keys(probabilities).length !== labelSet.labels.length || values.some((p) => p === undefined)) return undefined;
    return {id, result: {predictedLabel, predictedName, probabilities: values as number[]}};
}

const predictionLineSchema = z.object({
    id: z.string(),
    predicted_label: z.number().int(),
    predicted_name: z.string(),
    probabilities: z.record(z.string(), z.number().min(0).max(1))
});
