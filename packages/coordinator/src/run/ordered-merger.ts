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
 * and the record), so a line is never lost nor duplicated. Holds one input's files open at a time.
 *
 * A task kind with several outputs per input (classify: attributes and predictions) has
 * companion outputs: each shard appends one line per document to every file of its input, in
 * lockstep, and `flush()` fsyncs all of them before it returns the cursor. The cursor records the
 * main output's length only: a companion's durable length is derived from it on open (as many
 * lines as the main output has up to the cursor), so the Redis record stays one offset per run and
 * a crash between two files' writes cuts each back to the same documents.
 */
export class OrderedMerger {
    readonly #plan: ShardPlan;
    /** Per input: the main output, then its companions. */
    readonly #files: readonly (readonly string[])[];
    /** Next shard expected. */
    #next: number;
    #input = -1;
    /** The open files of `#input`, in `#files` order, and the length written to each. */
    #handles: FileHandle[] = [];
    #positions: number[] = [];
    #closed = false;

    private constructor(plan: ShardPlan, files: readonly (readonly string[])[], next: number) {
        this.#plan = plan;
        this.#files = files;
        this.#next = next;
    }

    /**
     * Opens the outputs at `cursor`, cutting them back to the recorded length. Outputs of inputs with
     * no documents are (re)created empty, since no shard will ever write them. `companions[input]`
     * are that input's further outputs (the same number for every input; none by default).
     */
    public static async open(plan: ShardPlan, outputs: readonly string[], cursor: MergeCursor, companions?: readonly (readonly string[])[]): Promise<OrderedMerger> {
        if (outputs.length !== plan.inputCount) throw new RangeError("one output per input");
        if (companions !== undefined && (companions.length !== plan.inputCount || companions.some((files) => files.length !== (companions[0] as readonly string[]).length)))
            throw new RangeError("the same number of companion outputs for every input");
        // the cursor is read back from Redis: one that no merge could have recorded must not cut an output
        if (!Number.isSafeInteger(cursor.shard) || cursor.shard < 0 || cursor.shard > plan.total || !Number.isSafeInteger(cursor.bytes) || cursor.bytes < 0 ||
            (cursor.shard === plan.total || plan.shard(cursor.shard).local === 0) && cursor.bytes !== 0)
            throw new OrchardError("OUTPUT_MISMATCH", `the run's recorded merge cursor (shard ${cursor.shard}, ${cursor.bytes} bytes) is not one a merge records; start the run again with --overwrite`);
        const files = outputs.map((output, input) => [output, ...(companions?.[input] ?? [])]);
        for (const [input, paths] of files.entries())
            if (plan.shardsOfInput(input) === 0) for (const path of paths) await (await openCreating(path, "w")).close();
        const merger = new OrderedMerger(plan, files, cursor.shard);
        if (cursor.shard < plan.total) await merger.#openAt(plan.shard(cursor.shard).input, cursor.bytes);
        return merger;
    }

    /** The next shard expected. */
    public get next(): number {
        return this.#next;
    }

    /**
     * Appends the lines (without newlines) of shard `shard`, which must be the next one: `lines` to
     * the main output, `companionLines[k]` (as many lines as `lines`) to companion `k`.
     */
    public async append(shard: PlannedShard, lines: readonly string[], companionLines: readonly (readonly string[])[] = []): Promise<void> {
        await this.#advanceTo(shard);
        const all = [lines, ...companionLines];
        if (all.length !== this.#handles.length || all.some((fileLines) => fileLines.length !== lines.length))
            throw new OrchardError("INTERNAL", `merge of shard ${shard.global}: ${all.length} sets of lines for ${this.#handles.length} outputs, or sets of different lengths`);
        if (lines.length > 0)
            for (const [k, fileLines] of all.entries()) {
                const buffer = Buffer.from(fileLines.map((line) => line + "\n").join(""), "utf8");
                const handle = this.#handles[k] as FileHandle;
                const position = this.#positions[k] as number;
                for (let done = 0; done < buffer.length;) {
                    const {bytesWritten} = await handle.write(buffer, done, buffer.length - done, position + done);
                    done += bytesWritten;
                }
                this.#positions[k] = position + buffer.length;
            }
        this.#next++;
    }

    /** Passes over shard `shard` (failed for good): nothing is written for it. */
    public async skip(shard: PlannedShard): Promise<void> {
        await this.#advanceTo(shard);
        this.#next++;
    }

    /** Makes everything appended durable (every file of the input) and returns the cursor to record. */
    public async flush(): Promise<MergeCursor> {
        await this.#syncAll();
        if (this.#next >= this.#plan.total) {
            await this.#closeCurrent();
            return {shard: this.#next, bytes: 0};
        }
        const nextInput = this.#plan.shard(this.#next).input;
        if (nextInput !== this.#input) {
            // the current input is complete: the next shard starts the next input's outputs at 0
            await this.#closeCurrent();
            await this.#openAt(nextInput, 0);
        }
        return {shard: this.#next, bytes: this.#positions[0] as number};
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
            await this.#syncAll();
            await this.#closeCurrent();
            await this.#openAt(shard.input, 0);
        }
    }

    async #syncAll(): Promise<void> {
        for (const handle of this.#handles) await handle.datasync();
    }

    /** Opens the input's files: the main output at `bytes`, each companion at the end of as many lines as the main output has there. */
    async #openAt(input: number, bytes: number): Promise<void> {
        const paths = this.#files[input] as readonly string[];
        const handles: FileHandle[] = [];
        const positions: number[] = [];
        try {
            const main = paths[0] as string;
            const handle = await openCreating(main, "r+");
            handles.push(handle);
            const {size} = await handle.stat();
            // a recorded length ends a line: cutting anywhere else would tear a merged line
            if (size < bytes || bytes > 0 && !(await endsLine(handle, bytes)))
                throw new OrchardError("OUTPUT_MISMATCH",
                    `${main} has ${size} bytes but the run recorded ${bytes} merged bytes${size < bytes ? "" : ", which is not the end of a line"}: the file was changed or replaced since; ` +
                    "start the run again with --overwrite");
            positions.push(bytes);
            const lines = paths.length > 1 && bytes > 0 ? await countNewlines(handle, bytes) : 0;
            for (const companion of paths.slice(1)) {
                const companionHandle = await openCreating(companion, "r+");
                handles.push(companionHandle);
                const end = await endOfLines(companionHandle, lines);
                if (end === undefined)
                    throw new OrchardError("OUTPUT_MISMATCH",
                        `${companion} has fewer than the ${lines} lines merged into ${main}: the file was changed or replaced since; start the run again with --overwrite`);
                positions.push(end);
            }
            // cut what a crash left after the recorded cursor: those lines are written again, once
            for (const [k, file] of handles.entries()) {
                if ((await file.stat()).size > (positions[k] as number)) {
                    await file.truncate(positions[k] as number);
                    await file.datasync();
                }
            }
        } catch (error) {
            for (const handle of handles) await handle.close();
            throw error;
        }
        this.#handles = handles;
        this.#positions = positions;
        this.#input = input;
    }

    async #closeCurrent(): Promise<void> {
        const handles = this.#handles;
        this.#handles = [];
        this.#positions = [];
        this.#input = -1;
        for (const handle of handles) await handle.close();
    }
}

const SCAN_CHUNK_BYTES = 1 << 20;

/** Newlines in the first `bytes` bytes of a file. */
async function countNewlines(handle: FileHandle, bytes: number): Promise<number> {
    const chunk = Buffer.alloc(SCAN_CHUNK_BYTES);
    let count = 0;
    for (let offset = 0; offset < bytes;) {
        const {bytesRead} = await handle.read(chunk, 0, Math.min(chunk.length, bytes - offset), offset);
        if (bytesRead === 0) break;
        for (let i = 0; i < bytesRead; i++) if (chunk[i] === 0x0a) count++;
        offset += bytesRead;
    }
    return count;
}

/** The offset just after the `lines`-th newline of a file (0 for none), or undefined when it has fewer. */
async function endOfLines(handle: FileHandle, lines: number): Promise<number | undefined> {
    if (lines === 0) return 0;
    const chunk = Buffer.alloc(SCAN_CHUNK_BYTES);
    let seen = 0;
    for (let offset = 0; ;) {
        const {bytesRead} = await handle.read(chunk, 0, chunk.length, offset);
        if (bytesRead === 0) return undefined;
        for (let i = 0; i < bytesRead; i++) if (chunk[i] === 0x0a && ++seen === lines) return offset + i + 1;
        offset += bytesRead;
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
