import {GENERATION_FLAGS, OrchardError, pathForDisplay, SAMPLING_FLAGS, type GenerationFlagValues, type RunTask} from "@orchard/shared";
import {generateRunTask} from "../run/generate-run-task.ts";

/** `orchard run --task generate` and its flags: the same names, meanings and defaults as `orchard generate`'s. */
export const GENERATE_RUN_FLAGS = {
    "task": {type: "string", choices: ["reask", "generate"], default: "reask", describe: "What each document gets: reask (the 32 attributes) or generate (a completion; the flags below)"},
    ...GENERATION_FLAGS,
    ...SAMPLING_FLAGS
} as const;

export interface RunTaskFlagValues extends GenerationFlagValues {
    readonly task: string;
}

/** Generation flags that mean nothing to another task (the sampling flags have defaults, so they cannot be told apart). */
const GENERATE_ONLY = ["template", "promptField", "system", "jsonSchema", "documentFrom", "labelFrom"] as const;

/** The run's task from the command line (the JSON schema file read and checked here, before any input). */
export async function runTaskFromArgs(args: RunTaskFlagValues): Promise<RunTask | undefined> {
    if (args.task !== "generate") {
        const stray = GENERATE_ONLY.find((key) => args[key] !== undefined);
        if (stray !== undefined)
            throw new OrchardError("INVALID_ARGUMENT", `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --task generate only`);
        return undefined;
    }
    return generateRunTask({
        template: args.template, promptField: args.promptField, system: args.system,
        jsonSchemaPath: args.jsonSchema === undefined ? undefined : pathForDisplay(args.jsonSchema),
        outputFormat: args.outputFormat as "generated" | "reexpress", documentFrom: args.documentFrom, labelFrom: args.labelFrom,
        maxTokens: args.maxTokens, temperature: args.temperature, topP: args.topP, topK: args.topK, minP: args.minP,
        repetitionPenalty: args.repetitionPenalty, frequencyPenalty: args.frequencyPenalty, presencePenalty: args.presencePenalty, seed: args.seed
    });
}
