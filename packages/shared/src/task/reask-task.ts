import {z} from "zod";
import {ATTRIBUTE_COUNT} from "../attributes/attribute-definitions.ts";
import {formatOutputLine, maxOutputLineBytes} from "../dataset/output-line.ts";
import {attributeValueSchema} from "../attributes/attribute-value-schema.ts";
import {namedOutputFile} from "./output-naming.ts";
import type {TaskKind} from "./task-kind.ts";

/** A re-ask document's result: its 32 attribute values, each finite, in [-2, 2] and a float32. */
export const reaskResultSchema = z.object({attributes: z.array(attributeValueSchema).length(ATTRIBUTE_COUNT)});
export type ReaskResult = z.infer<typeof reaskResultSchema>;

/** The re-ask has no settings of its own: its trailing instruction, prompt and context are the run's. */
export const reaskSettingsSchema = z.object({});
export type ReaskSettings = z.infer<typeof reaskSettingsSchema>;

/**
 * The 32 re-ask attributes of each document: `<input file name>.attributes.jsonl` (runs made before the
 * output naming was recorded: `<input name without .jsonl>.attributes.jsonl`, see OutputNaming),
 * each line the input's fields plus `attributes`, exactly as `orchard extract` writes it.
 */
export const REASK_TASK: TaskKind<ReaskSettings, ReaskResult> = {
    name: "reask",
    settingsSchema: reaskSettingsSchema,
    resultSchema: reaskResultSchema,
    outputFileName: (inputFileName, naming) => namedOutputFile(inputFileName, ".attributes.jsonl", naming),
    formatOutputLine: (document, result, prompt) => formatOutputLine(document, result.attributes, prompt),
    maxOutputLineBytes: (maxLineBytes, prompt) => maxOutputLineBytes(maxLineBytes, prompt)
};
