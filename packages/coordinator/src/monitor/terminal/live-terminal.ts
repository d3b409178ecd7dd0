import {Writable} from "node:stream";
import {visibleLength} from "./text-format.ts";

/**
 * A block of lines redrawn in place at the bottom of a terminal (the live view of `orchard run`),
 * with log lines kept above it: give the logger `logStream`, which erases the block, writes the
 * line and draws the block again. On anything but a TTY it draws nothing.
 */
export class LiveTerminal {
    public readonly stream: NodeJS.WriteStream;
    public readonly interactive: boolean;
    /** For the logger: its lines go above the block. */
    public readonly logStream: Writable;
    #block: string[] = [];
    #drawn = 0;
    #finished = false;

    public constructor(stream: NodeJS.WriteStream = process.stderr) {
        this.stream = stream;
        this.interactive = stream.isTTY === true;
        this.logStream = new Writable({
            write: (chunk: Buffer | string, _encoding, callback) => {
                this.#erase();
                this.stream.write(chunk);
                this.#paint();
                callback();
            }
        });
    }

    /** Replaces the block. */
    public draw(lines: readonly string[]): void {
        if (!this.interactive || this.#finished) return;
        const columns = this.stream.columns ?? 100;
        // a line wider than the terminal wraps and would break the erase: cut it (colours go with it)
        // eslint-disable-next-line no-control-regex
        this.#block = lines.map((line) => (visibleLength(line) < columns ? line : line.replace(/\x1b\[[0-9;]*m/g, "").slice(0, columns - 1)));
        this.#erase();
        this.#paint();
    }

    /** Removes the block from the screen (before other output), until the next draw. */
    public clear(): void {
        this.#erase();
        this.#block = [];
    }

    /** Leaves the last block on screen and stops drawing. */
    public finish(): void {
        this.#finished = true;
        this.#drawn = 0;
    }

    #erase(): void {
        if (this.#drawn > 0) this.stream.write(`\x1b[${this.#drawn}A\r\x1b[J`);
        this.#drawn = 0;
    }

    #paint(): void {
        if (this.#block.length === 0 || this.#finished) return;
        this.stream.write(this.#block.join("\n") + "\n");
        this.#drawn = this.#block.length;
    }
}
