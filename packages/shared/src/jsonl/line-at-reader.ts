import {closeSync, openSync, readSync} from "node:fs";

/** Bytes read at a time while looking for the end of a line. */
const READ_BYTES = 1 << 16;

/**
 * Reads single lines of a file back by byte offset, synchronously: for the rare look back at an
 * earlier line (DocumentIdIndex's exact check on a hash match), where a stream would cost more
 * than the read. The file is opened on the first read; close() releases it (idempotent).
 */
export class LineAtReader {
    readonly #path: string;
    #fd: number | undefined;
    #buffer: Buffer | undefined;

    public constructor(path: string) {
        this.#path = path;
    }

    /** The line starting at `byteOffset`, decoded as UTF-8, without its "\n" or "\r\n" (as readJsonlLines gives it). */
    public read(byteOffset: number): string {
        this.#fd ??= openSync(this.#path, "r");
        this.#buffer ??= Buffer.allocUnsafe(READ_BYTES);
        const pieces: Buffer[] = [];
        let position = byteOffset;
        for (;;) {
            const bytes = readSync(this.#fd, this.#buffer, 0, READ_BYTES, position);
            if (bytes === 0) break;
            const read = this.#buffer.subarray(0, bytes);
            const newline = read.indexOf(0x0a);
            const end = newline === -1 ? bytes : newline;
            pieces.push(Buffer.from(read.subarray(0, end)));
            if (end < bytes) break;
            position += bytes;
        }
        const line = Buffer.concat(pieces);
        const length = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
        return line.toString("utf8", 0, length);
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
