import {open, type FileHandle} from "node:fs/promises";
import {dirname} from "node:path";
import {OrchardError} from "@orchard/shared";
import type {PlannedShard, ShardPlan} from "./shard-plan.ts";

/** The merge cursor: every shard before `shard` is in the outputs; `bytes` is the durable length of its input's output. */
export interface MergeCursor {
    readonly shard: number;
    readonly bytes: number;
}

/**
 * Writes the run's output files strictly in shard order. Lines are written at explicit offsets
 * and fsynced by `flush()`, which returns the cursor to record in Redis only after the data is on
 * disk; opening at a recorded cursor cuts whatever was written after it (a crash between the write
 * and the record), so a line is never lost nor duplicated. Holds one open file at a time.
 */
export class OrderedMerger {
    readonly #plan: ShardPlan;
    readonly #outputs: readonly string[];
    /** Next shard expected. */
    #next: number;
    #input = -1;
    #handle: FileHandle | undefined;
    #position = 0;
    #closed = false;

    private constructor(plan: ShardPlan, outputs: readonly string[], next: number) {
        this.#plan = plan;
        this.#outputs = outputs;
        this.#next = next;
    }

    /**
     * Opens the output at `cursor`, cutting it back to the recorded length. Outputs of inputs with
     * no documents are (re)created empty, since no shard will ever write them.
     */
    public static async open(plan: ShardPlan, outputs: readonly string[], cursor: MergeCursor): Promise<OrderedMerger> {
        if (outputs.length !== plan.inputCount) throw new RangeError("one output per input");
        // the cursor is read back from Redis: one that no merge could have recorded must not cut an output
        if (!Number.isSafeInteger(cursor.shard) || cursor.shard < 0 || cursor.shard > plan.total || !Number.isSafeInteger(cursor.bytes) || cursor.bytes < 0 ||
            (cursor.shard === plan.total || plan.shard(cursor.shard).local === 0) && cursor.bytes !== 0)
            throw new OrchardError("OUTPUT_MISMATCH", `the run's recorded merge cursor (shard ${cursor.shard}, ${cursor.bytes} bytes) is not one a merge records; start the run again with --overwrite`);
        for (const [input, output] of outputs.entries())
            if (plan.shardsOfInput(input) === 0) await (await openCreating(output, "w")).close();
        const merger = new OrderedMerger(plan, outputs, cursor.shard);
        if (cursor.shard < plan.total) await merger.#openAt(plan.shard(cursor.shard).input, cursor.bytes);
        return merger;
    }

    /** The next shard expected. */
    public get next(): number {
        return this.#next;
    }

    /** Appends the lines (without newlines) of shard `shard`, which must be the next one. */
    public async append(shard: PlannedShard, lines: readonly string[]): Promise<void> {
        await this.#advanceTo(shard);
        if (lines.length > 0) {
            const buffer = Buffer.from(lines.map((line) => line + "\n").join(""), "utf8");
            const handle = this.#handle as FileHandle;
            for (let done = 0; done < buffer.length;) {
                const {bytesWritten} = await handle.write(buffer, done, buffer.length - done, this.#position + done);
                done += bytesWritten;
            }
            this.#position += buffer.length;
        }
        this.#next++;
    }

    /** Passes over shard `shard` (failed for good): nothing is written for it. */
    public async skip(shard: PlannedShard): Promise<void> {
        await this.#advanceTo(shard);
        this.#next++;
    }

    /** Makes everything appended durable and returns the cursor to record. */
    public async flush(): Promise<MergeCursor> {
        await this.#handle?.datasync();
        if (this.#next >= this.#plan.total) {
            await this.#closeCurrent();
            return {shard: this.#next, bytes: 0};
        }
        const nextInput = this.#plan.shard(this.#next).input;
        if (nextInput !== this.#input) {
            // the current input is complete: the next shard starts the next input's output at 0
            await this.#closeCurrent();
            await this.#openAt(nextInput, 0);
        }
        return {shard: this.#next, bytes: this.#position};
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        await this.#closeCurrent();
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    async #advanceTo(shard: PlannedShard): Promise<void> {
        if (this.#closed) throw new OrchardError("INTERNAL", "the merger is closed");
        if (shard.global !== this.#next) throw new OrchardError("INTERNAL", `merge out of order: shard ${shard.global} where ${this.#next} is next`);
        if (shard.input !== this.#input) {
            await this.#handle?.datasync();
            await this.#closeCurrent();
            await this.#openAt(shard.input, 0);
        }
    }

    async #openAt(input: number, bytes: number): Promise<void> {
        const path = this.#outputs[input] as string;
        const handle = await openCreating(path, "r+");
        const {size} = await handle.stat();
        // a recorded length ends a line: cutting anywhere else would tear a merged line
        if (size < bytes || bytes > 0 && !(await endsLine(handle, bytes))) {
            await handle.close();
            throw new OrchardError("OUTPUT_MISMATCH",
                `${path} has ${size} bytes but the run recorded ${bytes} merged bytes${size < bytes ? "" : ", which is not the end of a line"}: the file was changed or replaced since; ` +
                "start the run again with --overwrite");
        }
        // cut what a crash left after the recorded cursor: those lines are written again, once
        if (size > bytes) {
            await handle.truncate(bytes);
            await handle.datasync();
        }
        this.#handle = handle;
        this.#input = input;
        this.#position = bytes;
    }

    async #closeCurrent(): Promise<void> {
        const handle = this.#handle;
        this.#handle = undefined;
        this.#input = -1;
        await handle?.close();
    }
}

/** Whether the byte before `offset` is a newline. */
async function endsLine(handle: FileHandle, offset: number): Promise<boolean> {
    const byte = Buffer.alloc(1);
    const {bytesRead} = await handle.read(byte, 0, 1, offset - 1);
    return bytesRead === 1 && byte[0] === 0x0a;
}

/** Opens `path`, creating it (and making its directory entry durable) when absent. */
async function openCreating(path: string, flags: "r+" | "w"): Promise<FileHandle> {
    try {
        return await open(path, flags);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" || flags === "w") throw error;
    }
    const handle = await open(path, "w+");
    await syncDirectory(dirname(path));
    return handle;
}

/** fsync of a directory, so that a newly created file's entry survives a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
    const handle = await open(dir, "r");
    try {
        await handle.sync();
    } catch {
        // some filesystems refuse fsync on directories; the data itself is synced regardless
    } finally {
        await handle.close();
    }
}
