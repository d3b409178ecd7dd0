import {stat} from "node:fs/promises";
import {generateMessageOf, InputLineError, InputValidationError, MAX_REPORTED_INPUT_ERRORS, OrchardError, readJsonlLines, type MessageSource} from "@orchard/shared";

/** One input line of `orchard generate`, validated. */
export interface GenerateDocument {
    /** 0-based among the documents (blank lines are not documents). */
    readonly index: number;
    readonly lineNumber: number;
    readonly id: string;
    /** The line's fields, in the line's order (the output line starts with them). */
    readonly fields: Readonly<Record<string, unknown>>;
    /** The user message. */
    readonly message: string;
}

export interface ReadGenerateInputOptions {
    readonly source: MessageSource;
    readonly maxLineBytes: number;
    /** Further checks of a valid line (the reexpress label field, the prompt's length): a reason, or undefined. */
    readonly check?: (document: GenerateDocument) => {code: "INVALID_INPUT_LINE" | "DOCUMENT_TOO_LONG"; reason: string} | undefined;
}

/**
 * Reads a generation input in order: one JSON object per line with a non-empty string `id`
 * (unique) and whatever fields the message needs. Problems are collected (up to
 * MAX_REPORTED_INPUT_ERRORS) and thrown together once the file is read, naming `file:line`; no
 * document is handed out past the first problem, so a caller that reads the whole file first writes
 * nothing for a bad one.
 */
export async function* readGenerateInput(file: string, options: ReadGenerateInputOptions): AsyncGenerator<GenerateDocument> {
    await assertReadableFile(file);
    const problems: InputLineError[] = [];
    let truncated = false;
    const report = (problem: InputLineError) => {
        if (problems.length < MAX_REPORTED_INPUT_ERRORS) problems.push(problem);
        else truncated = true;
    };
    // one process, one file: a Set of ids is the simple owner here (the fleet's coordinator hashes them)
    const seen = new Map<string, number>();
    let index = 0;
    for await (const {lineNumber, text} of readJsonlLines(file, {maxLineBytes: options.maxLineBytes, onBadLine: (bad) => report(bad.error)})) {
        if (text.trim() === "") continue;
        const parsed = parseLine(text, options.source);
        if (typeof parsed === "string") {
            report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, parsed));
            continue;
        }
        const firstLine = seen.get(parsed.id);
        if (firstLine !== undefined) {
            report(new InputLineError("DUPLICATE_ID", file, lineNumber, `duplicate id "${parsed.id}" (first seen on line ${firstLine})`));
            continue;
        }
        seen.set(parsed.id, lineNumber);
        const document = {index, lineNumber, ...parsed};
        const problem = options.check?.(document);
        if (problem !== undefined) {
            report(new InputLineError(problem.code, file, lineNumber, problem.reason));
            continue;
        }
        index++;
        if (problems.length === 0) yield document;
    }
    if (problems.length > 0) throw new InputValidationError(file, problems, truncated);
}

function parseLine(text: string, source: MessageSource): {id: string; fields: Record<string, unknown>; message: string} | string {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        return `not valid JSON (${(error as Error).message})`;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a JSON object with an \"id\"";
    const fields = value as Record<string, unknown>;
    const id = fields["id"];
    if (id === undefined) return "missing field \"id\"";
    if (typeof id !== "string") return "field \"id\" must be a string";
    if (id === "") return "field \"id\" must not be empty";
    // the same check of a line as the fleet's input scan (shared): one implementation
    const read = generateMessageOf(fields, source);
    return "problem" in read ? read.problem : {id, fields, message: read.message};
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
