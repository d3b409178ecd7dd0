import {stat} from "node:fs/promises";
import {InputLineError, OrchardError} from "../errors/orchard-error.ts";
import {readJsonlLines} from "../jsonl/jsonl-line-reader.ts";
import {LineAtReader} from "../jsonl/line-at-reader.ts";
import {DEFAULT_MAX_LINE_BYTES} from "../jsonl/max-line-bytes.ts";
import {effectivePromptText, prepareDocumentText, type PromptSettings} from "../prompt/reask-prompt.ts";
import {inputDocumentSchema} from "../schemas/input-document-schema.ts";
import type {InputLineReader} from "../task/task-kind.ts";
import {DocumentIdIndex} from "./document-id-index.ts";
import type {PreparedDocument} from "./prepared-document.ts";

/** Validation stops collecting problems after this many, so a wrong file does not flood the terminal. */
export const MAX_REPORTED_INPUT_ERRORS = 20;

/** Every problem found in one input file; the message lists them one per line. */
export class InputValidationError extends OrchardError {
    public readonly problems: readonly InputLineError[];

    public constructor(file: string, problems: readonly InputLineError[], truncated: boolean) {
        const first = problems[0];
        const code = problems.length === 1 && first != null ? first.code : "INVALID_INPUT_LINE";
        super(code, [
            `${file}: ${problems.length}${truncated ? "+" : ""} invalid line${problems.length === 1 ? "" : "s"}; nothing was written`,
            ...problems.map((problem) => `  ${problem.message}`)
        ].join("\n"), {details: {file, problems: problems.map((p) => p.details)}});
        this.name = "InputValidationError";
        this.problems = problems;
    }
}

export interface ReadDatasetOptions {
    /** Every raw chunk of the file as it is read, in order (see ReadJsonlLinesOptions.onChunk): hashing in the same pass. */
    readonly onChunk?: (chunk: Buffer) => void;
    /** Longest line accepted, in bytes (see ReadJsonlLinesOptions.maxLineBytes). Default DEFAULT_MAX_LINE_BYTES (8 MiB). */
    readonly maxLineBytes?: number;
    /**
     * Reads each line of a task kind whose lines are not the re-ask's (inputLineReaderOf(task)): any
     * JSON object with a non-empty string id, its message as the document's text, the whole line as
     * its `fields`. Default: the re-ask's Reexpress line (id, label, document...).
     */
    readonly lineReader?: InputLineReader;
}

/** Where to start reading a dataset that was validated before (a shard's first document). */
export interface DatasetStart {
    /** Byte offset of the first line to read (a PreparedDocument's `byteOffset`). */
    readonly byteOffset: number;
    /** Its 1-based line number. */
    readonly lineNumber: number;
    /** Its 0-based document index. */
    readonly index: number;
}

/**
 * Reads and validates a whole JSONL dataset, yielding prepared documents in order. Problems are
 * collected (up to MAX_REPORTED_INPUT_ERRORS) and thrown together at the end, so a caller that
 * must write nothing for a bad file consumes everything before acting. With `start`, reading
 * begins at a document of a file validated before (duplicate ids are then checked only from there).
 */
export async function* readDataset(file: string, settings: PromptSettings, start?: DatasetStart, options: ReadDatasetOptions = {}): AsyncGenerator<PreparedDocument> {
    await assertReadableFile(file);
    const problems: InputLineError[] = [];
    // ids as hashes, not strings: a Map of 1M ids held 59 MiB at a coordinator's input scan, the index 28 MiB
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const earlierLines = new LineAtReader(file, maxLineBytes);
    const seenIds = new DocumentIdIndex({idAt: (byteOffset) => idOfLine(earlierLines.read(byteOffset))});
    let truncated = false;
    let index = start?.index ?? 0;
    const report = (problem: InputLineError) => {
        if (problems.length < MAX_REPORTED_INPUT_ERRORS) problems.push(problem);
        else truncated = true;
    };

    const lines = readJsonlLines(file, {
        startByte: start?.byteOffset,
        startLine: start?.lineNumber,
        onChunk: options.onChunk,
        maxLineBytes,
        // a line too long or not UTF-8 is one more problem of the file, and validation goes on past it
        onBadLine: (bad) => report(bad.error)
    });
    try {
        for await (const {lineNumber, text, byteOffset} of lines) {
            if (text.trim() === "") continue; // blank lines (e.g. a final newline) are not documents
            const result = options.lineReader === undefined
                ? parseDocumentLine(file, lineNumber, text, settings)
                : parseTaskLine(file, lineNumber, text, options.lineReader);
            if (result instanceof InputLineError) {
                report(result);
                continue;
            }
            const firstLine = seenIds.add(result.id, lineNumber, byteOffset);
            if (firstLine !== undefined) {
                report(new InputLineError("DUPLICATE_ID", file, lineNumber, `duplicate id "${result.id}" (first seen on line ${firstLine})`));
                continue;
            }
            if (problems.length > 0) continue; // keep validating, but never hand out documents past a problem
            if ("fields" in result) {
                yield {index: index++, lineNumber, byteOffset, doc: {id: result.id, label: 0, document: result.message}, documentText: result.message, promptText: "", fields: result.fields};
                continue;
            }
            yield {
                index: index++,
                lineNumber,
                byteOffset,
                doc: result,
                documentText: prepareDocumentText(result.document, settings.maxDocumentChars),
                promptText: effectivePromptText(result, settings)
            };
        }
    } finally {
        earlierLines.close();
    }
    if (problems.length > 0)
        throw new InputValidationError(file, problems, truncated);
}

/** Validates a whole dataset and returns its documents; throws InputValidationError listing the problems. */
export async function loadDataset(file: string, settings: PromptSettings): Promise<PreparedDocument[]> {
    const documents: PreparedDocument[] = [];
    for await (const document of readDataset(file, settings)) documents.push(document);
    return documents;
}

/** The id of a line validated before, read back; undefined if it is no longer readable or no longer a document. */
function idOfLine(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    try {
        const value: unknown = JSON.parse(text);
        const id = typeof value === "object" && value !== null ? (value as {id?: unknown}).id : undefined;
        return typeof id === "string" ? id : undefined;
    } catch {
        return undefined;
    }
}

function parseDocumentLine(file: string, lineNumber: number, text: string, settings: PromptSettings) {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, "expected a JSON object with id, label and document");
    const parsed = inputDocumentSchema.safeParse(value);
    if (!parsed.success)
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, parsed.error.issues.map((issue) => issue.message).join("; "));
    if (settings.useJsonPrompt && (parsed.data.prompt == null || parsed.data.prompt.trim() === ""))
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, "--use-json-prompt is set but the line has no non-empty \"prompt\" field");
    return parsed.data;
}

/** A line of a task kind with its own line reader: a JSON object with a non-empty string id, read by the kind. */
function parseTaskLine(file: string, lineNumber: number, text: string, reader: InputLineReader) {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, "expected a JSON object with an \"id\"");
    const fields = value as Record<string, unknown>;
    const id = fields["id"];
    if (typeof id !== "string" || id === "")
        return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, id === undefined ? "missing field \"id\"" : "field \"id\" must be a non-empty string");
    const read = reader(fields);
    if ("problem" in read) return new InputLineError("INVALID_INPUT_LINE", file, lineNumber, read.problem);
    return {id, message: read.message, fields};
}

async function assertReadableFile(file: string): Promise<void> {
    try {
        const info = await stat(file);
        if (!info.isFile()) throw new OrchardError("INPUT_NOT_FOUND", `${file}: not a regular file`);
    } catch (error) {
        if (error instanceof OrchardError) throw error;
        throw new OrchardError("INPUT_NOT_FOUND", `${file}: input file not found`, {cause: error});
    }
}
