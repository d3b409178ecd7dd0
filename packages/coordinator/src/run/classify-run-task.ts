import {
    assertLabelPromptTemplate, assertLabelTrailingInstruction, DEFAULT_LABEL_PROMPT, readLabelSet, type PromptSettings, type RunTask
} from "@orchard/shared";

/** `orchard run --task classify`'s own options. */
export interface ClassifyRunTaskOptions {
    /** Reexpress's label display names file (`{"label": 0, "name": "…"}` per line), as the user named it. */
    readonly labelsPath: string;
    /** Stage-1 prompt template with {prompt}, {document}, {labels}. Default DEFAULT_LABEL_PROMPT. */
    readonly labelPrompt?: string;
}

/**
 * A classify run's task, read and validated by the coordinator before anything runs: the labels
 * file (every problem as `file:line: reason`, at least 2 labels) and the label prompt. The labels
 * travel in the run's spec and in every shard job, so workers never read the file.
 */
export async function classifyRunTask(options: ClassifyRunTaskOptions): Promise<RunTask> {
    const labelPrompt = options.labelPrompt ?? DEFAULT_LABEL_PROMPT;
    assertLabelPromptTemplate(labelPrompt);
    const labelSet = await readLabelSet(options.labelsPath);
    return {kind: "classify", settings: {labelsFile: labelSet.file, labels: labelSet.labels.map((entry) => ({label: entry.label, name: entry.name})), labelPrompt}};
}

/** The checks of a run's task that need its prompt settings (INVALID_ARGUMENT): a classify run's re-ask must ask about the predicted label. */
export function assertRunTaskPrompt(task: RunTask, prompt: PromptSettings): void {
    if (task.kind !== "classify") return;
    assertLabelPromptTemplate(task.settings.labelPrompt);
    assertLabelTrailingInstruction(prompt.trailingInstruction);
}

/**
 * What of a run's task makes two commands the same run (its spec key): everything but the labels
 * file's name, which only names it in messages (the same labels from another working directory
 * are the same run).
 */
export function runTaskIdentity(task: RunTask): unknown {
    if (task.kind !== "classify") return task;
    return {kind: task.kind, settings: {labels: task.settings.labels, labelPrompt: task.settings.labelPrompt}};
}
