import {isUtf8} from "node:buffer";
import {createReadStream} from "node:fs";
import {InputLineError} from "../errors/orchard-error.ts";
import {invalidUtf8Offset} from "./invalid-utf8-offset.ts";
import {DEFAULT_MAX_LINE_BYTES} from "./max-line-bytes.ts";

/** One raw line of a JSONL file. */
export interface JsonlLine {
    /** 1-based line number, as editors show it. */
    readonly lineNumber: number;
    /** The line without its terminator (a trailing "\r" is dropped too). */
    readonly text: string;
    /** Byte offset of the line's first byte in the file (3 for the first line of a file that starts with a UTF-8 BOM). */
    readonly byteOffset: number;
}

/** A line that is never decoded: longer than the limit, or not valid UTF-8. */
export interface BadJsonlLine {
    readonly lineNumber: number;
    readonly byteOffset: number;
    /** Bytes of the line, its "\n" excluded. */
    readonly byteLength: number;
    /** False for a last line without "\n" (e.g. torn by an interrupted write). */
    readonly terminated: boolean;
    /** `file:line: reason`, code INVALID_INPUT_LINE. */
    readonly error: InputLineError;
}

export interface ReadJsonlLinesOptions {
    /** Byte offset to start reading at (the start of a line). Default 0. */
    readonly startByte?: number;
    /** Line number of the line at `startByte`. Default 1. */
    readonly startLine?: number;
    /**
     * Called with every chunk read, in file order, before its lines are yielded: every byte from
     * `startByte` to the end of the file once read to its end (a final line without "\n" included),
     * so a caller can hash the file in the same pass. The chunk is the stream's: copy what you keep.
     */
    readonly onChunk?: (chunk: Buffer) => void;
    /**
     * Longest line read, in bytes, its "\n" excluded. Default DEFAULT_MAX_LINE_BYTES (8 MiB). The bytes
     * of a longer line are counted and dropped as they arrive, so memory stays bounded whatever its length.
     */
    readonly maxLineBytes?: number;
    /** The file as messages name it. Default `path`. */
    readonly displayPath?: string;
    /**
     * Receives each line that is too long or not valid UTF-8, which is then skipped. Without it such
     * a line throws its InputLineError: a reader that does not ask never sees a lossy decode.
     */
    readonly onBadLine?: (bad: BadJsonlLine) => void;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Streams the lines of a UTF-8 file with their numbers and byte offsets, in bounded memory.
 * readline would do the splitting but loses byte offsets, which resume and sharding need; it would
 * also decode invalid bytes to U+FFFD, which made two different ids one "duplicate id". A UTF-8 BOM
 * is skipped at byte 0 of the file only (where editors on Windows put it); anywhere else it is
 * part of the line.
 */
export async function* readJsonlLines(path: string, options: ReadJsonlLinesOptions = {}): AsyncGenerator<JsonlLine> {
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const displayPath = options.displayPath ?? path;
    let lineNumber = options.startLine ?? 1;
    let offset = options.startByte ?? 0;
    let atFileStart = offset === 0;
    // the current line: its bytes so far (all of them counted, none kept once it is too long)
    let pending: Buffer[] = [];
    let lineBytes = 0;
    let tooLong = false;
    // a read from an offset is a coordinator's shard (a few KB to ~150 KB, read twice per shard and
    // usually left early): 64 KiB chunks, not 1 MiB ones plus read-ahead, cut the coordinator's CPU
    // by a third and its peak RSS by ~30 MB on short documents (bench/fleet-bench.ts, scale part)
    const stream = createReadStream(path, {start: offset, highWaterMark: options.startByte === undefined ? 1 << 20 : 1 << 16});
    // the line ends here; returns the line to yield, or undefined for a bad one (reported or thrown)
    const finishLine = (lastPiece: Buffer, terminated: boolean): JsonlLine | undefined => {
        const byteOffset = offset;
        const byteLength = lineBytes;
        const lineBuffer = tooLong || pending.length === 0 ? lastPiece : Buffer.concat([...pending, lastPiece]);
        offset += lineBytes + 1;
        pending = [];
        lineBytes = 0;
        const wasTooLong = tooLong;
        tooLong = false;
        const reason = wasTooLong
            ? `line is ${byteLength} bytes, the limit is ${maxLineBytes} (--max-line-bytes raises it)`
            : invalidUtf8Reason(lineBuffer, byteOffset);
        if (reason === undefined) return {lineNumber, text: decodeLine(lineBuffer), byteOffset};
        const error = new InputLineError("INVALID_INPUT_LINE", displayPath, lineNumber, reason);
        if (options.onBadLine === undefined) throw error;
        options.onBadLine({lineNumber, byteOffset, byteLength, terminated, error});
        return undefined;
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
        options.onChunk?.(chunk);
        let start = 0;
        if (atFileStart) {
            atFileStart = false;
            if (chunk.length >= 3 && chunk[0] === UTF8_BOM[0] && chunk[1] === UTF8_BOM[1] && chunk[2] === UTF8_BOM[2]) {
                start = 3;
                offset = 3;
            }
        }
        for (;;) {
            const newline = chunk.indexOf(0x0a, start);
            const end = newline === -1 ? chunk.length : newline;
            // counted before anything is kept: a line over the limit is never joined or decoded
            if (!tooLong && lineBytes + (end - start) > maxLineBytes) {
                tooLong = true;
                pending = [];
            }
            lineBytes += end - start;
            if (newline === -1) {
                if (!tooLong && start < chunk.length) pending.push(chunk.subarray(start));
                break;
            }
            const line = finishLine(chunk.subarray(start, tooLong ? start : newline), true);
            if (line !== undefined) yield line;
            lineNumber++;
            start = newline + 1;
        }
    }
    if (lineBytes > 0) {
        const line = finishLine(Buffer.alloc(0), false);
        if (line !== undefined) yield line;
    }
}

/** Why a line is not valid UTF-8 (the first bad byte, in the line and in the file), or undefined if it is. */
function invalidUtf8Reason(line: Buffer, lineOffset: number): string | undefined {
    if (isUtf8(line)) return undefined;
    const at = invalidUtf8Offset(line);
    return `not valid UTF-8 at byte ${at} of the line (byte ${lineOffset + at} of the file)`;
}

function decodeLine(buffer: Buffer): string {
    const end = buffer.length > 0 && buffer[buffer.length - 1] === 0x0d ? buffer.length - 1 : buffer.length;
    return buffer.toString("utf8", 0, end);
}
