import {z} from "zod";
import {OrchardError} from "../errors/orchard-error.ts";
import {namedOutputFile} from "../task/output-naming.ts";
import type {TaskKind} from "../task/task-kind.ts";
import {formatGenerateOutputLine, generateMessageOf, type GenerateOutput, type MessageSource} from "./generate-output-line.ts";
import {PromptTemplate} from "./prompt-template.ts";

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();

/** Where a Reexpress line's value comes from (ValueSource). */
export const valueSourceSchema = z.discriminatedUnion("kind", [
    z.object({kind: z.literal("input"), field: z.string().min(1)}),
    z.object({kind: z.literal("completion")}),
    z.object({kind: z.literal("json"), field: z.string().min(1)})
]);

/** ResolvedGenerationSampling as a run carries it (the same bounds resolveGenerationSampling checks). */
export const generationSamplingSchema = z.object({
    maxTokens: positiveInt,
    temperature: z.number().min(0),
    topP: z.number().gt(0).max(1),
    topK: nonNegativeInt,
    minP: z.number().min(0).max(1),
    repetitionPenalty: z.number().positive(),
    frequencyPenalty: z.number(),
    presencePenalty: z.number(),
    seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
});

/**
 * A generate run's settings, as its spec and every shard job carry them: the message source, the
 * system text, the sampling, the JSON schema itself (read and checked by the coordinator: workers
 * need not see the file) and the output format.
 */
export const generateSettingsSchema = z.object({
    message: z.discriminatedUnion("kind", [
        z.object({kind: z.literal("template"), template: z.string()}),
        z.object({kind: z.literal("field"), field: z.string().min(1)})
    ]),
    system: z.string(),
    sampling: generationSamplingSchema,
    jsonSchema: z.record(z.string(), z.unknown()).optional(),
    output: z.discriminatedUnion("format", [
        z.object({format: z.literal("generated")}),
        z.object({format: z.literal("reexpress"), document: valueSourceSchema, label: valueSourceSchema})
    ])
});
export type GenerateSettings = z.infer<typeof generateSettingsSchema>;

/** One document's completion, as `orchard generate` writes it: `json` with a schema only. */
export const generateResultSchema = z.object({
    completion: z.string(),
    json: z.unknown().optional(),
    finish: z.enum(["stop", "length"]),
    tokens: z.object({prompt: nonNegativeInt, completion: nonNegativeInt})
});
export type GenerateResult = z.infer<typeof generateResultSchema>;

/** The message source of a run's settings (a template parsed once per call site). */
export function messageSourceOf(settings: GenerateSettings): MessageSource {
    if (settings.message.kind === "field") return {promptField: settings.message.field};
    const template = PromptTemplate.parse(settings.message.template);
    if (typeof template === "string") throw new OrchardError("INVALID_ARGUMENT", `--template: ${template}`);
    return {template};
}

/**
 * Reads one input line of a generate run, as the coordinator's input scan and shard reads do: the
 * user message (the filled --template or the --prompt-field), or what is wrong with the line; with
 * `--label-from <input field>`, that field must hold an integer label (checked before anything runs).
 */
export function generateLineReader(settings: GenerateSettings): (fields: Readonly<Record<string, unknown>>) => {message: string} | {problem: string} {
    const source = messageSourceOf(settings);
    const label = settings.output.format === "reexpress" && settings.output.label.kind === "input" ? settings.output.label.field : undefined;
    return (fields) => {
        const message = generateMessageOf(fields, source);
        if ("problem" in message) return message;
        if (label !== undefined && !Number.isInteger(fields[label])) return {problem: `--label-from ${label}: field "${label}" must be an integer label`};
        return message;
    };
}

/**
 * Longest generated output line for inputs read with `maxLineBytes`: the input line, plus the
 * completion and its parsed copy (a token is at most 16 characters of Mixtral's vocabulary, at most
 * 6 bytes each once JSON-escaped), plus keys and counts. `orchard generate` reads back with the same bound.
 */
export function maxGeneratedLineBytes(maxLineBytes: number, maxTokens: number): number {
    return maxLineBytes + 2 * maxTokens * 16 * 6 + 4096;
}

/**
 * Generation (`orchard run --task generate`): a completion per input line through Mixtral's chat
 * format, `<input file name>.generated.jsonl` (the whole input name plus a suffix, as every kind
 * names new runs' outputs; a run's recorded naming is kept on resume), each line exactly
 * what `orchard generate` writes for it (formatGenerateOutputLine, one implementation).
 */
export const GENERATE_TASK: TaskKind<GenerateSettings, GenerateResult> = {
    name: "generate",
    settingsSchema: generateSettingsSchema,
    resultSchema: generateResultSchema,
    outputFileName: (inputFileName, naming) => namedOutputFile(inputFileName, ".generated.jsonl", naming),
    formatOutputLine: (document, result, _prompt, settings) => {
        const fields = document.fields ?? {id: document.doc.id};
        const line = formatGenerateOutputLine(settings.output as GenerateOutput, settings.jsonSchema !== undefined, {id: document.doc.id, fields}, result);
        // the worker checks these before it sends a result (a verdict instead): one here is a bug
        if (typeof line !== "string") throw new OrchardError("INTERNAL", `document "${document.doc.id}": ${line.reason}`);
        return line;
    },
    maxOutputLineBytes: (maxLineBytes, _prompt, settings) => maxGeneratedLineBytes(maxLineBytes, settings.sampling.maxTokens),
    inputLineReader: generateLineReader
};
