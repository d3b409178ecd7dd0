import {open, rename, rm} from "node:fs/promises";
import {dirname} from "node:path";
import {
    DEFAULT_RUN_TASK, inputLineReaderOf, readDataset, readJsonlLines, taskKind, type CompanionOutput, type PromptSettings, type RunTask, type ShardResult, type SkippedDocument
} from "@orchard/shared";
import {syncDirectory} from "./ordered-merger.ts";
import type {ShardPlan} from "./shard-plan.ts";

export interface PatchOutputOptions {
    readonly plan: ShardPlan;
    readonly input: number;
    readonly inputPath: string;
    readonly displayPath: string;
    readonly outputPath: string;
    readonly settings: PromptSettings;
    /** The run's task: how a result becomes an output line. Default the re-ask. */
    readonly task?: RunTask;
    /** `outputPath` is this companion output of the task kind (its lines, its line limit); default the main output. */
    readonly companion?: CompanionOutput;
    /** Longest input line, in bytes, as the run validated its inputs. */
    readonly maxLineBytes: number;
    /** Retried shards whose results arrived: their documents go into the output. */
    readonly patchShards: ReadonlySet<number>;
    readonly resultOf: (shard: number) => Promise<ShardResult | undefined>;
}

export interface PatchOutcome {
    /** Lines in the patched output. */
    readonly lines: number;
    /** Documents of patched shards that the worker refused (e.g. too long). */
    readonly skipped: readonly SkippedDocument[];
}

/**
 * Puts the documents of retried shards into an output that was merged without them (`retry-failed`):
 * streams the input and the old output side by side and writes, in input order, each document's
 * old line if it has one, else its new line if its shard was retried, else nothing (still missing).
 * The result replaces the output atomically (temporary file, fsync, rename), and running it twice
 * is harmless: a document already present keeps its line. Memory: one shard's results at a time.
 */
export async function patchOutput(options: PatchOutputOptions): Promise<PatchOutcome> {
    const {plan, input, settings} = options;
    const temporary = `${options.outputPath}.patch-${process.pid}.tmp`;
    const task = options.task ?? DEFAULT_RUN_TASK;
    const kind = taskKind(task.kind);
    const {companion} = options;
    const maxOldLineBytes = companion === undefined ? kind.maxOutputLineBytes(options.maxLineBytes, settings, task.settings) : companion.maxLineBytes(options.maxLineBytes, task.settings);
    const format = companion === undefined ? kind.formatOutputLine : companion.formatLine;
    const oldLines = readJsonlLines(options.outputPath, {maxLineBytes: maxOldLineBytes})[Symbol.asyncIterator]();
    let oldLine = await nextOldLine(oldLines);
    const handle = await open(temporary, "w");
    const skipped: SkippedDocument[] = [];
    let lines = 0;
    let cachedShard = -1;
    let cachedResult: ShardResult | undefined;
    try {
        let pending = "";
        const write = async (line: string) => {
            pending += line + "\n";
            lines++;
            if (pending.length > 1 << 20) {
                await handle.write(pending);
                pending = "";
            }
        };
        for await (const prepared of readDataset(options.inputPath, settings, undefined, {maxLineBytes: options.maxLineBytes, lineReader: inputLineReaderOf(task)})) {
            if (oldLine !== undefined && oldLine.id === prepared.doc.id) {
                await write(oldLine.text);
                oldLine = await nextOldLine(oldLines);
                continue;
            }
            const shard = plan.shardOfDocument(input, prepared.index);
            if (!options.patchShards.has(shard)) continue; // still missing
            if (shard !== cachedShard) {
                cachedShard = shard;
                cachedResult = await options.resultOf(shard);
            }
            const outcome = cachedResult?.documents[prepared.index - plan.shard(shard).firstDocument];
            if (outcome === undefined || outcome.id !== prepared.doc.id) continue;
            if (outcome.error === undefined) await write(format(prepared, outcome, settings, task.settings));
            else skipped.push({id: prepared.doc.id, input, index: prepared.index, line: prepared.lineNumber, code: outcome.error.code, message: outcome.error.message});
        }
        await handle.write(pending);
        await handle.datasync();
    } catch (error) {
        await handle.close();
        await rm(temporary, {force: true});
        throw error;
    } finally {
        await oldLines.return?.(undefined);
    }
    await handle.close();
    await rename(temporary, options.outputPath);
    await syncDirectory(dirname(options.outputPath));
    return {lines, skipped};
}

async function nextOldLine(lines: AsyncIterator<{text: string}>): Promise<{id: unknown; text: string} | undefined> {
    for (;;) {
        const next = await lines.next();
        if (next.done === true) return undefined;
        if (next.value.text === "") continue;
        return {id: (JSON.parse(next.value.text) as {id?: unknown}).id, text: next.value.text};
    }
}
