import {stat, truncate} from "node:fs/promises";
import {OrchardError, readJsonlLines} from "@orchard/shared";

export interface ResumePoint {
    /** Complete output lines already written, which belong to the first documents of the input. */
    readonly completeLines: number;
    /** Bytes of a torn last line that were cut off (0 if none). */
    readonly repairedBytes: number;
}

/**
 * Inspects an existing output file before extraction (or generation) continues after it. Each line
 * must be exactly what this input and these settings produce for the same document (everything but
 * the computed fields, which the caller takes from the written line, is re-derived from the input
 * and compared byte for byte); a torn last line
 * (an interruption mid-write) is cut off. Anything else means the file is not this input's
 * output: OUTPUT_MISMATCH, unless the caller overwrites.
 */
export async function findResumePoint(
    outputPath: string,
    /**
     * The line this input writes for output line `index` (0-based), given the computed fields of the
     * line as written (`attributes` for extract; the completion for generate) and the line itself
     * (an output whose lines hold other computed values reads them from `text`); undefined past the
     * last document.
     */
    expectedLine: (index: number, written: Readonly<Record<string, unknown>>, text: string) => Promise<{id: string; line: string} | undefined>,
    describe: {outputFile: string; inputFile: string},
    /** Longest line an output of this input can hold, in bytes (maxOutputLineBytes). */
    maxLineBytes: number
): Promise<ResumePoint> {
    if (!(await exists(outputPath))) return {completeLines: 0, repairedBytes: 0};
    const size = (await stat(outputPath)).size;
    let completeLines = 0;
    let validBytes = 0;
    const lines = readJsonlLines(outputPath, {
        maxLineBytes,
        displayPath: describe.outputFile,
        // too long or not UTF-8: no line this input gives, unless it is the torn last one (a crash
        // mid-write can cut a character in two), which is cut off below like any torn line
        onBadLine: (bad) => {
            if (bad.terminated) throw mismatch(describe, bad.lineNumber, `is unreadable (${bad.error.reason})`);
        }
    });
    for await (const {lineNumber, text, byteOffset} of lines) {
        const lineEnd = byteOffset + Buffer.byteLength(text) + 1;
        const isLast = lineEnd >= size;
        const terminated = lineEnd <= size;
        let parsed: Record<string, unknown> | undefined;
        try {
            const value: unknown = JSON.parse(text);
            parsed = typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
        } catch {
            parsed = undefined;
        }
        if (parsed === undefined || !terminated) {
            if (isLast) break; // torn last line: repaired below
            throw mismatch(describe, lineNumber, "is not a complete JSON line");
        }
        const expected = await expectedLine(completeLines, parsed, text);
        if (expected == null) throw mismatch(describe, lineNumber, "has more lines than the input has documents");
        if (parsed.id !== expected.id)
            throw mismatch(describe, lineNumber, `has id ${JSON.stringify(parsed.id)} where the input's document ${completeLines + 1} has id "${expected.id}"`);
        if (text !== expected.line)
            throw mismatch(describe, lineNumber, `differs from what this input and these settings give for id "${expected.id}" (document, label, prompt or other fields changed)`);
        completeLines++;
        validBytes = lineEnd;
    }
    const repairedBytes = size - validBytes;
    if (repairedBytes > 0) await truncate(outputPath, validBytes);
    return {completeLines, repairedBytes};
}

/**
 * Cuts a file checked by findResumePoint after its first `lines` lines: two outputs written side
 * by side (a classify task's attributes and predictions) resume from the shorter one.
 * Returns the bytes cut off.
 */
export async function keepFirstLines(path: string, lines: number, maxLineBytes: number): Promise<number> {
    if (!(await exists(path))) return 0;
    const size = (await stat(path)).size;
    let kept = 0;
    let end = 0;
    if (lines > 0) {
        for await (const {text, byteOffset} of readJsonlLines(path, {maxLineBytes})) {
            end = byteOffset + Buffer.byteLength(text) + 1;
            if (++kept === lines) break;
        }
    }
    if (end >= size) return 0;
    await truncate(path, end);
    return size - end;
}

function mismatch(describe: {outputFile: string; inputFile: string}, line: number, what: string): OrchardError {
    return new OrchardError("OUTPUT_MISMATCH",
        `${describe.outputFile}:${line}: existing output ${what}, so it is not the output of ${describe.inputFile}; ` +
        "pass --overwrite to replace it, or choose another --output");
}

async function exists(path: string): Promise<boolean> {
    try {
        await stat(path);
        return true;
    } catch {
        return false;
    }
}
