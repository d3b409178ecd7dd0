// Helpers of bench/fleet-bench.ts: generated datasets, long-lived child processes, /proc memory
// figures, the output-file merge timeline and the ideal shard schedule the scaling part compares with.
import {spawn, type ChildProcess} from "node:child_process";
import {createWriteStream} from "node:fs";
import {open, readFile} from "node:fs/promises";
import {once} from "node:events";
import {layoutInput} from "@orchard/coordinator";
import {DEFAULT_SHARD_TAPER} from "@orchard/shared";
import {repoRoot} from "./bench-support.ts";

const WORDS = ("the film was a quiet surprise with strong performances sharp writing and a score that lingers long after " +
    "the credits though the middle act drags and some jokes fall flat service slow food cold staff kind price fair").split(" ");

/** A deterministic review-like text of `words` words for document `index`. */
export function reviewText(index: number, words: number): string {
    return Array.from({length: words}, (_, i) => WORDS[(i * 7 + index * 13 + (i >> 3)) % WORDS.length]).join(" ");
}

/**
 * Writes `count` documents as JSONL, streaming (a million lines never sit in memory). Document i
 * has `wordsOf(i)` words; ids are zero-padded so that every line of a size class has the same length.
 */
export async function writeDataset(path: string, count: number, wordsOf: (index: number) => number): Promise<{bytes: number}> {
    const out = createWriteStream(path, {encoding: "utf8", highWaterMark: 1 << 20});
    let bytes = 0;
    let chunk = "";
    for (let i = 0; i < count; i++) {
        chunk += JSON.stringify({id: `d${String(i + 1).padStart(8, "0")}`, label: i % 2, document: `Review ${i + 1}: ${reviewText(i, wordsOf(i))}.`}) + "\n";
        if (chunk.length >= 1 << 16 || i === count - 1) {
            bytes += Buffer.byteLength(chunk);
            if (!out.write(chunk)) await once(out, "drain");
            chunk = "";
        }
    }
    out.end();
    await once(out, "finish");
    return {bytes};
}

/** Fields of /proc/<pid>/status in bytes (VmRSS, VmHWM...), or undefined once the process is gone. */
export async function procStatus(pid: number): Promise<Record<string, number> | undefined> {
    try {
        const text = await readFile(`/proc/${pid}/status`, "utf8");
        const fields: Record<string, number> = {};
        for (const line of text.split("\n")) {
            const match = /^(Vm\w+):\s+(\d+) kB/.exec(line);
            if (match !== null) fields[match[1] as string] = Number(match[2]) * 1024;
        }
        return fields;
    } catch {
        return undefined;
    }
}

/** A `node --import tsx` child that prints JSON lines: `{"ready": ...}` when it is up, and its result as the last line. */
export interface BenchChild<T> {
    readonly process: ChildProcess;
    /** The first stdout line holding `"ready"`. */
    readonly ready: Promise<Record<string, unknown>>;
    /** The JSON of its last stdout line, once it exited with code 0. */
    readonly result: Promise<T>;
}

export function startBenchChild<T>(script: string, args: readonly string[]): BenchChild<T> {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"]});
    let stdout = "";
    let announce: (value: Record<string, unknown>) => void = () => undefined;
    let fail: (error: Error) => void = () => undefined;
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
        announce = resolve;
        fail = reject;
    });
    child.stdout.setEncoding("utf8").on("data", (data: string) => {
        stdout += data;
        for (const line of stdout.split("\n").slice(0, -1))
            if (line.includes("\"ready\"")) announce(JSON.parse(line) as Record<string, unknown>);
    });
    const result = new Promise<T>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code, signal) => {
            fail(new Error(`${script} exited (${code ?? signal}) before it was ready`));
            if (code !== 0) return reject(new Error(`${script} ${args.join(" ")} exited with ${code ?? signal}`));
            try {
                resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as T);
            } catch {
                reject(new Error(`${script} printed no JSON result: ${stdout.slice(-500)}`));
            }
        });
    });
    ready.catch(() => undefined);
    result.catch(() => undefined);
    return {process: child, ready, result};
}

/**
 * Follows a growing output file: every `intervalMs` it counts the newlines appended since the last
 * look, and notes when the count first reaches each wanted mark. The coordinator writes a shard's
 * lines, then fsyncs and records the cursor: a line counted here is a merged document.
 */
export class MergeTimeline {
    readonly #path: string;
    readonly #origin: number;
    readonly #marks: number[];
    readonly #reached = new Map<number, {seconds: number; lines: number}>();
    #position = 0;
    #lines = 0;
    #timer: NodeJS.Timeout | undefined;
    #busy = false;

    /** Times are in seconds since `origin` (a performance.now() value). */
    public constructor(path: string, origin: number, marks: readonly number[], intervalMs = 10) {
        this.#path = path;
        this.#origin = origin;
        this.#marks = [...marks].sort((a, b) => a - b);
        this.#timer = setInterval(() => void this.#look(), intervalMs);
    }

    /** Stops following after one last look; returns when each mark was first reached, and the lines merged by then (a merge step may pass a mark). */
    public async stop(): Promise<Map<number, {seconds: number; lines: number}>> {
        clearInterval(this.#timer);
        while (this.#busy) await new Promise((resolve) => setTimeout(resolve, 1));
        await this.#look();
        return this.#reached;
    }

    async #look(): Promise<void> {
        if (this.#busy) return;
        this.#busy = true;
        try {
            const handle = await open(this.#path, "r").catch(() => undefined);
            if (handle === undefined) return;
            try {
                const buffer = Buffer.alloc(1 << 20);
                for (;;) {
                    const {bytesRead} = await handle.read(buffer, 0, buffer.length, this.#position);
                    if (bytesRead === 0) break;
                    for (let i = 0; i < bytesRead; i++) if (buffer[i] === 10) this.#lines++;
                    this.#position += bytesRead;
                }
            } finally {
                await handle.close();
            }
            const now = (performance.now() - this.#origin) / 1000;
            for (const mark of this.#marks) if (this.#lines >= mark && !this.#reached.has(mark)) this.#reached.set(mark, {seconds: now, lines: this.#lines});
        } finally {
            this.#busy = false;
        }
    }
}

/**
 * The best a shard-based fleet can do with these workers (docs/s each) and no overhead at all:
 * each free worker takes the next shard at once, the merge follows the slowest prefix. Returns
 * when the `mark`-th document and the last one are merged, in seconds.
 */
export function idealShardSchedule(documents: number, shardSize: number, speeds: readonly number[], mark: number): {markSeconds: number; endSeconds: number} {
    const free = speeds.map(() => 0);
    let mergedAt = 0;
    let markSeconds = 0;
    // the shards the coordinator cuts (tapered near the end)
    const {fullShards, tailFirsts} = layoutInput(documents, shardSize, DEFAULT_SHARD_TAPER);
    const firsts = [...Array.from({length: fullShards}, (_, i) => i * shardSize), ...tailFirsts];
    for (const [i, first] of firsts.entries()) {
        const size = (firsts[i + 1] ?? documents) - first;
        let worker = 0;
        for (let w = 1; w < free.length; w++) if ((free[w] as number) < (free[worker] as number)) worker = w;
        const done = (free[worker] as number) + size / (speeds[worker] as number);
        free[worker] = done;
        mergedAt = Math.max(mergedAt, done);
        if (markSeconds === 0 && first + size >= mark) markSeconds = mergedAt;
    }
    return {markSeconds, endSeconds: mergedAt};
}
