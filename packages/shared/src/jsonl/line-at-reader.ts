import {isUtf8} from "node:buffer";
import {closeSync, openSync, readSync} from "node:fs";
import {DEFAULT_MAX_LINE_BYTES} from "./max-line-bytes.ts";

/** Bytes read at a time while looking for the end of a line. */
const READ_BYTES = 1 << 16;

/**
 * Reads single lines of a file back by byte offset, synchronously: for the rare look back at an
 * earlier line (DocumentIdIndex's exact check on a hash match), where a stream would cost more
 * than the read. The file is opened on the first read; close() releases it (idempotent).
 */
export class LineAtReader {
    readonly #path: string;
    readonly #maxLineBytes: number;
    #fd: number | undefined;
    #buffer: Buffer | undefined;

    /** `maxLineBytes`: as readJsonlLines' option (default 8 MiB); a longer line is not read back. */
    public constructor(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
        this.#path = path;
        this.#maxLineBytes = maxLineBytes;
    }

    /**
     * The line starting at `byteOffset`, decoded as UTF-8, without its "\n" or "\r\n" (as readJsonlLines
     * gives it); undefined where readJsonlLines would refuse it (too long, or not UTF-8): the file changed.
     */
    public read(byteOffset: number): string | undefined {
        this.#fd ??= openSync(this.#path, "r");
        this.#buffer ??= Buffer.allocUnsafe(READ_BYTES);
        const pieces: Buffer[] = [];
        let length = 0;
        let position = byteOffset;
        for (;;) {
            const bytes = readSync(this.#fd, this.#buffer, 0, READ_BYTES, position);
            if (bytes === 0) break;
            const read = this.#buffer.subarray(0, bytes);
            const newline = read.indexOf(0x0a);
            const end = newline === -1 ? bytes : newline;
            pieces.push(Buffer.from(read.subarray(0, end)));
            length += end;
            if (length > this.#maxLineBytes) return undefined;
            if (end < bytes) break;
            position += bytes;
        }
        const line = Buffer.concat(pieces);
        if (!isUtf8(line)) return undefined;
        const textLength = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
        return line.toString("utf8", 0, textLength);
    }

    public close(): void {
        if (this.#fd !== undefined) closeSync(this.#fd);
        this.#fd = undefined;
        this.#buffer = undefined;
    }

    public [Symbol.dispose](): void {
        this.close();
    }
}
