import {z} from "zod";
import {CLASSIFY_TASK, classifySettingsSchema} from "./classify-task.ts";
import {GENERATE_TASK, generateSettingsSchema} from "../generate/generate-task.ts";
import {REASK_TASK, reaskSettingsSchema} from "./reask-task.ts";
import type {InputLineReader, TaskKind, TaskKindName} from "./task-kind.ts";

/** Every task kind by name: a new kind is added here (and to TASK_KIND_NAMES, runTaskSchema and the worker's registry). */
const TASK_KINDS: {readonly [K in TaskKindName]: TaskKind} = {
    reask: REASK_TASK as unknown as TaskKind,
    classify: CLASSIFY_TASK as unknown as TaskKind,
    generate: GENERATE_TASK as unknown as TaskKind
};

export function taskKind(name: TaskKindName): TaskKind {
    return TASK_KINDS[name];
}

/** A run's task as its spec and its shard jobs carry it: the kind and its settings, checked with the kind's schema. */
export const runTaskSchema = z.discriminatedUnion("kind", [
    z.object({kind: z.literal("reask"), settings: reaskSettingsSchema}),
    z.object({kind: z.literal("classify"), settings: classifySettingsSchema}),
    z.object({kind: z.literal("generate"), settings: generateSettingsSchema})
]);
export type RunTask = z.infer<typeof runTaskSchema>;

/** What a run without a task (made before task kinds) computes. */
export const DEFAULT_RUN_TASK: RunTask = {kind: "reask", settings: {}};

/** The task of a spec or a shard job (absent: the re-ask, as every run before task kinds). */
export function runTaskOf(record: {readonly task?: RunTask | undefined}): RunTask {
    return record.task ?? DEFAULT_RUN_TASK;
}

/** How the coordinator reads the input lines of a run's task (readDataset's `lineReader`; undefined: the re-ask's Reexpress lines). */
export function inputLineReaderOf(task: RunTask): InputLineReader | undefined {
    const kind = taskKind(task.kind);
    return kind.inputLineReader?.(task.settings);
}
