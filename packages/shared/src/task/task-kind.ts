import type {z} from "zod";
import type {PreparedDocument} from "../dataset/prepared-document.ts";
import type {PromptSettings} from "../prompt/reask-prompt.ts";

/** The task kinds a run can have. A run record without a task is a "reask" run (runs made before task kinds). */
export const TASK_KIND_NAMES = ["reask", "generate"] as const;
export type TaskKindName = (typeof TASK_KIND_NAMES)[number];

/**
 * What a fleet run computes per document, as the coordinator and the records see it: the coordinator,
 * queue, merge, resume, retry and monitoring stay the same for every kind and ask it only this. The
 * worker's side (how a document is computed) is the worker's task registry (packages/worker/src/fleet/task-handlers.ts).
 *
 * `Settings` travel in the run spec (`task.settings`) and in every shard job; `Result` is one
 * document's result in a shard's result (`{id, ...result}`), checked with `resultSchema` wherever the
 * coordinator reads it back from Redis (any machine can write there).
 */
export interface TaskKind<Settings = unknown, Result extends Record<string, unknown> = Record<string, unknown>> {
    readonly name: TaskKindName;
    /** The kind's own settings (the run-wide prompt settings, context size and --truncate are the spec's, for every kind). */
    readonly settingsSchema: z.ZodType<Settings>;
    /** One document's result, without its id: its fields sit beside `id` in the shard result. */
    readonly resultSchema: z.ZodObject;
    /** The output file name of an input file name (its base name). */
    outputFileName(inputFileName: string): string;
    /** A document's output line (no newline) from its input line as the run read it and the worker's result. */
    formatOutputLine(document: PreparedDocument, result: Result, prompt: PromptSettings, settings: Settings): string;
    /** Longest output line inputs read with `maxLineBytes` can give, in bytes: the bound for reading an output back (resume, retry-failed). */
    maxOutputLineBytes(maxLineBytes: number, prompt: PromptSettings, settings: Settings): number;
    /**
     * How the coordinator reads an input line of this kind (a JSON object with a string id, checked
     * by the reader): the text the worker prompts with, or what is wrong with the line (`file:line`
     * before anything runs). Absent: the re-ask's Reexpress line (id, label, document...).
     */
    inputLineReader?(settings: Settings): InputLineReader;
}

/** Reads one input line's fields into the text a worker is sent (PreparedDocument.documentText), or a problem. */
export type InputLineReader = (fields: Readonly<Record<string, unknown>>) => {message: string} | {problem: string};
