import type {z} from "zod";
import type {PreparedDocument} from "../dataset/prepared-document.ts";
import type {PromptSettings} from "../prompt/reask-prompt.ts";
import type {OutputNaming} from "./output-naming.ts";

/** The task kinds a run can have. A run record without a task is a "reask" run (runs made before task kinds). */
export const TASK_KIND_NAMES = ["reask", "classify", "generate"] as const;
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
    /** The output file name of an input file name (its base name), named by the run's naming (default: new runs'). */
    outputFileName(inputFileName: string, naming?: OutputNaming): string;
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
    /**
     * Further outputs per input beside the main one (classify's predictions), each with its own
     * name and line: every document with a result gets one line in each, merged in lockstep with
     * the main output. None by default.
     */
    readonly companionOutputs?: readonly CompanionOutput<Settings, Result>[];
    /**
     * Checks a result against the run's settings, beyond `resultSchema` (e.g. a predicted label is
     * one of the run's labels): the reason it is refused, or undefined. A refused result is a failed
     * attempt of its shard, as one that fails the schema.
     */
    checkResult?(result: Result, settings: Settings): string | undefined;
}

/** One further output file per input of a task kind (see TaskKind.companionOutputs). */
export interface CompanionOutput<Settings = unknown, Result extends Record<string, unknown> = Record<string, unknown>> {
    /** The output file name of an input file name (its base name), named by the run's naming (default: new runs'). */
    fileName(inputFileName: string, naming?: OutputNaming): string;
    /** A document's line in this output (no newline). */
    formatLine(document: PreparedDocument, result: Result, prompt: PromptSettings, settings: Settings): string;
    /** Longest line this output can hold for inputs read with `maxLineBytes`, in bytes (resume and retry read it back). */
    maxLineBytes(maxLineBytes: number, settings: Settings): number;
}

/** Reads one input line's fields into the text a worker is sent (PreparedDocument.documentText), or a problem. */
export type InputLineReader = (fields: Readonly<Record<string, unknown>>) => {message: string} | {problem: string};
