import type {GenerateDocument} from "./generate-input.ts";

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
export function formatGeneratedLine(document: GenerateDocument, generated: GeneratedFields, withJson: boolean): string {
    const line: Record<string, unknown> = {...document.fields, completion: generated.completion};
    if (withJson) line["json"] = generated.json;
    line["finish"] = generated.finish;
    line["tokens"] = {prompt: generated.tokens.prompt, completion: generated.tokens.completion};
    return JSON.stringify(line);
}

/** A Reexpress line (no newline): id, label, document, then the input's info and group when they are strings. */
export function formatReexpressLine(document: GenerateDocument, label: number, text: string): string {
    const line: Record<string, unknown> = {id: document.id, label, document: text};
    for (const key of ["info", "group"] as const) {
        const value = document.fields[key];
        if (typeof value === "string") line[key] = value;
    }
    return JSON.stringify(line);
}

/** The value a source picks for one document: {value} or a reason it has none. */
export function pickValue(source: ValueSource, document: GenerateDocument, generated: GeneratedFields): {value: unknown} | {missing: string} {
    if (source.kind === "completion") return {value: generated.completion};
    if (source.kind === "input") return Object.hasOwn(document.fields, source.field) ? {value: document.fields[source.field]} : {missing: `input field "${source.field}"`};
    const json = generated.json;
    if (typeof json === "object" && json !== null && !Array.isArray(json) && Object.hasOwn(json, source.field))
        return {value: (json as Record<string, unknown>)[source.field]};
    return {missing: `json.${source.field}`};
}
