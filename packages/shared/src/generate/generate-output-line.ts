import type {PromptTemplate} from "./prompt-template.ts";

/** What a generation output line is made from: the input line's id and fields, in the line's order. */
export interface GenerateLineSource {
    readonly id: string;
    readonly fields: Readonly<Record<string, unknown>>;
}

/** Fields a generation output line adds to each input line: an input line may not carry them. */
export const GENERATED_FIELDS = ["completion", "json", "finish", "tokens"] as const;

/** `generated` (default): the input line's fields, then completion, json, finish, tokens. `reexpress`: id, label, document [, info, group]. */
export const GENERATE_OUTPUT_FORMATS = ["generated", "reexpress"] as const;
export type GenerateOutputFormat = (typeof GENERATE_OUTPUT_FORMATS)[number];

/** Where a Reexpress line's value comes from: an input field, the completion, or a field of the parsed JSON value. */
export type ValueSource = {readonly kind: "input"; readonly field: string} | {readonly kind: "completion"} | {readonly kind: "json"; readonly field: string};

/** Parses `--document-from` / `--label-from`: `completion`, `json.<field>`, or (label only) an input field name. */
export function parseValueSource(text: string, flag: "--document-from" | "--label-from"): ValueSource | string {
    if (text.startsWith("json.")) {
        const field = text.slice("json.".length);
        return field === "" ? `${flag} ${text}: name a field after "json."` : {kind: "json", field};
    }
    if (flag === "--document-from") return text === "completion" ? {kind: "completion"} : `${flag} must be "completion" or "json.<field>" (got "${text}")`;
    return text === "" ? `${flag} must name an input field or "json.<field>"` : {kind: "input", field: text};
}

/** The generated part of a line, as generation gives it or as it is read back from an existing output. */
export interface GeneratedFields {
    readonly completion: string;
    readonly json?: unknown;
    readonly finish: string;
    readonly tokens: {readonly prompt: number; readonly completion: number};
}

/** A line of the default format (no newline). */
export function formatGeneratedLine(document: GenerateLineSource, generated: GeneratedFields, withJson: boolean): string {
    const line: Record<string, unknown> = {...document.fields, completion: generated.completion};
    if (withJson) line["json"] = generated.json;
    line["finish"] = generated.finish;
    line["tokens"] = {prompt: generated.tokens.prompt, completion: generated.tokens.completion};
    return JSON.stringify(line);
}

/** A Reexpress line (no newline): id, label, document, then the input's info and group when they are strings. */
export function formatReexpressLine(document: GenerateLineSource, label: number, text: string): string {
    const line: Record<string, unknown> = {id: document.id, label, document: text};
    for (const key of ["info", "group"] as const) {
        const value = document.fields[key];
        if (typeof value === "string") line[key] = value;
    }
    return JSON.stringify(line);
}

/** The value a source picks for one document: {value} or a reason it has none. */
export function pickValue(source: ValueSource, document: GenerateLineSource, generated: GeneratedFields): {value: unknown} | {missing: string} {
    if (source.kind === "completion") return {value: generated.completion};
    if (source.kind === "input") return Object.hasOwn(document.fields, source.field) ? {value: document.fields[source.field]} : {missing: `input field "${source.field}"`};
    const json = generated.json;
    if (typeof json === "object" && json !== null && !Array.isArray(json) && Object.hasOwn(json, source.field))
        return {value: (json as Record<string, unknown>)[source.field]};
    return {missing: `json.${source.field}`};
}

/** How a generation task writes its lines (the options `--output-format`, `--document-from`, `--label-from` resolve to). */
export type GenerateOutput = {readonly format: "generated"} | {readonly format: "reexpress"; readonly document: ValueSource; readonly label: ValueSource};

/**
 * The output line of a document (no newline), or why it has none (a Reexpress value missing or of
 * the wrong type): the one implementation behind `orchard generate` and the fleet's generate task.
 */
export function formatGenerateOutputLine(output: GenerateOutput, withJson: boolean, document: GenerateLineSource, generated: GeneratedFields): string | {code: "OUTPUT_FIELD_INVALID"; reason: string} {
    if (output.format === "generated") return formatGeneratedLine(document, generated, withJson);
    const label = pickValue(output.label, document, generated);
    const text = pickValue(output.document, document, generated);
    if ("missing" in label) return {code: "OUTPUT_FIELD_INVALID", reason: `--label-from: the completion has no ${label.missing}`};
    if ("missing" in text) return {code: "OUTPUT_FIELD_INVALID", reason: `--document-from: the completion has no ${text.missing}`};
    if (!Number.isInteger(label.value)) return {code: "OUTPUT_FIELD_INVALID", reason: `--label-from gives ${JSON.stringify(label.value)}, not an integer label`};
    if (typeof text.value !== "string") return {code: "OUTPUT_FIELD_INVALID", reason: `--document-from gives ${JSON.stringify(text.value)}, not a string`};
    return formatReexpressLine(document, label.value as number, text.value);
}

/** Where each document's user message comes from: a --template or a --prompt-field. */
export type MessageSource = {readonly template: PromptTemplate} | {readonly promptField: string};

/**
 * An input line's user message, or what is wrong with the line (a field the message needs is
 * missing, or the line carries a field generation writes): the check `orchard generate` and
 * `orchard run --task generate` make of every line before anything runs.
 */
export function generateMessageOf(fields: Readonly<Record<string, unknown>>, source: MessageSource): {message: string} | {problem: string} {
    const reserved = GENERATED_FIELDS.find((name) => Object.hasOwn(fields, name));
    if (reserved !== undefined) return {problem: `field "${reserved}" is one orchard generate writes: rename it in the input`};
    if ("template" in source) {
        const filled = source.template.fill(fields);
        if ("missing" in filled) return {problem: `--template uses {${filled.missing}} but the line has no field "${filled.missing}"`};
        return {message: filled.text};
    }
    const message = Object.hasOwn(fields, source.promptField) ? fields[source.promptField] : undefined;
    if (message === undefined || message === null) return {problem: `--prompt-field ${source.promptField}: the line has no field "${source.promptField}"`};
    if (typeof message !== "string" || message.trim() === "") return {problem: `--prompt-field ${source.promptField}: field "${source.promptField}" must be a non-empty string`};
    return {message};
}
