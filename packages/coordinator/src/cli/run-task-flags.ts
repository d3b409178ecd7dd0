import {DEFAULT_LABEL_PROMPT, GENERATION_FLAGS, OrchardError, pathForDisplay, SAMPLING_FLAGS, type GenerationFlagValues, type RunTask} from "@orchard/shared";
import {classifyRunTask} from "../run/classify-run-task.ts";
import {generateRunTask} from "../run/generate-run-task.ts";

/**
 * `orchard run --task` and every task's flags: classify's as on `orchard extract --task classify`,
 * generate's with the same names, meanings and defaults as `orchard generate`'s. "extract" is the
 * re-ask under the name `orchard extract --task` gives it.
 */
export const RUN_TASK_FLAGS = {
    "task": {
        type: "string", choices: ["reask", "classify", "generate", "extract"], default: "reask",
        describe: "What each document gets: reask (the 32 attributes; also named extract, as in orchard extract --task); " +
            "classify (the model first picks one of --labels, then the re-ask asks about that label, with --trailing-instruction using {label_name} and/or {label}: " +
            "<input file name>.attributes.jsonl and <input file name>.predictions.jsonl); generate (a completion: <input file name>.generated.jsonl; the generation flags below)"
    },
    "labels": {type: "string", describe: "classify: label display names JSONL, {\"label\": 0, \"name\": \"...\"} per line (2 or more labels), checked before anything runs"},
    "label-prompt": {
        type: "string",
        describe: `classify: stage-1 prompt template with {prompt}, {document}, {labels} (default: ${JSON.stringify(DEFAULT_LABEL_PROMPT)})`
    },
    ...GENERATION_FLAGS,
    ...SAMPLING_FLAGS
} as const;

export interface RunTaskFlagValues extends GenerationFlagValues {
    readonly task: string;
    readonly labels?: string | undefined;
    readonly labelPrompt?: string | undefined;
}

/** Flags that belong to one task only (the sampling flags have defaults, so they cannot be told apart). */
const CLASSIFY_ONLY = ["labels", "labelPrompt"] as const;
const GENERATE_ONLY = ["template", "promptField", "system", "jsonSchema", "documentFrom", "labelFrom"] as const;

/**
 * The run's task from the command line, read and checked before any input (the labels file, the
 * JSON schema file); undefined for the re-ask. A flag of another task than the one given is a mistake.
 */
export async function runTaskFromArgs(args: RunTaskFlagValues): Promise<RunTask | undefined> {
    const task = args.task === "extract" ? "reask" : args.task;
    if (task !== "classify") {
        const stray = CLASSIFY_ONLY.find((key) => args[key] !== undefined);
        if (stray !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${flagName(stray)} is for --task classify: add --task classify, or leave it out`);
    }
    if (task !== "generate") {
        const stray = GENERATE_ONLY.find((key) => args[key] !== undefined);
        if (stray !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${flagName(stray)} applies to --task generate only`);
    }
    if (task === "classify") {
        if (args.labels === undefined)
            throw new OrchardError("INVALID_ARGUMENT", "--task classify needs --labels: a JSONL file of {\"label\": <integer>, \"name\": \"<text>\"}, one label per line");
        return classifyRunTask({labelsPath: pathForDisplay(args.labels), ...(args.labelPrompt === undefined ? {} : {labelPrompt: args.labelPrompt})});
    }
    if (task !== "generate") return undefined;
    return generateRunTask({
        template: args.template, promptField: args.promptField, system: args.system,
        jsonSchemaPath: args.jsonSchema === undefined ? undefined : pathForDisplay(args.jsonSchema),
        outputFormat: args.outputFormat as "generated" | "reexpress", documentFrom: args.documentFrom, labelFrom: args.labelFrom,
        maxTokens: args.maxTokens, temperature: args.temperature, topP: args.topP, topK: args.topK, minP: args.minP,
        repetitionPenalty: args.repetitionPenalty, frequencyPenalty: args.frequencyPenalty, presencePenalty: args.presencePenalty, seed: args.seed
    });
}

function flagName(key: string): string {
    return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
