import {writeSync} from "node:fs";
import {Writable} from "node:stream";

/** Write errors that mean the terminal (or the reading end) is gone for good. */
const GONE = new Set(["EIO", "EPIPE"]);

/**
 * Log lines to stderr (fd 2), written synchronously so none is lost on exit, that outlive their
 * terminal: once it is closed (SIGHUP: writes fail with EIO) or its reader left (EPIPE), lines are
 * dropped instead of throwing from inside a log call, so a coordinator whose terminal closed still
 * stops its workers and its embedded Redis. pino's own destination would emit an unhandled 'error'.
 */
export class StderrLogStream extends Writable {
    #gone = false;

    public override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
        if (!this.#gone) {
            try {
                let buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
                // a pipe or a terminal may take a long line in several writes
                while (buffer.length > 0) buffer = buffer.subarray(writeSync(2, buffer));
            } catch (error) {
                const code = (error as NodeJS.ErrnoException).code ?? "";
                if (GONE.has(code)) this.#gone = true;
                else if (code !== "EAGAIN") return callback(error as Error);
            }
        }
        callback();
    }
}
