import type {FileHandle} from "node:fs/promises";

/** Output is flushed to disk at least this often while writing (extract, generate). */
const FSYNC_INTERVAL_MS = 1000;

/** Appends lines and fsyncs at most every FSYNC_INTERVAL_MS, and on sync(). */
export class DurableLineWriter {
    readonly #handle: FileHandle;
    #lastSync = performance.now();

    public constructor(handle: FileHandle) {
        this.#handle = handle;
    }

    public async write(line: string): Promise<void> {
        await this.#handle.write(line + "\n");
        if (performance.now() - this.#lastSync >= FSYNC_INTERVAL_MS) await this.sync();
    }

    public async sync(): Promise<void> {
        await this.#handle.datasync();
        this.#lastSync = performance.now();
    }
}
