import {DEFAULT_LABEL_PROMPT, DEFAULT_RUN_CONTEXT_SIZE, DEFAULT_SHARD_SIZE, INPUT_FLAGS, OrchardError, pathForDisplay, PROMPT_FLAGS, promptOptionsFromArgs, type InputFlagValues, type PromptFlagValues} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {FLEET_SESSION_FLAGS, fleetSessionOptionsFromArgs, interruptSignal, type FleetSessionFlagValues} from "../fleet-session-flags.ts";
import {reportRunSummary} from "../report-run-summary.ts";
import {RUN_DASHBOARD_FLAGS, type RunDashboardFlagValues} from "../dashboard-flags.ts";

interface RunArgs extends FleetSessionFlagValues, PromptFlagValues, InputFlagValues, RunDashboardFlagValues {
    model: string;
    input: string[];
    outputDir: string;
    contextSize: number;
    shardSize: number;
    maxPendingShards?: number;
    shardAttempts?: number;
    retryDelayMs?: number;
    name?: string;
    overwrite: boolean;
    simulateTokensPerSecond?: number;
    task: string;
    labels?: string;
    labelPrompt?: string;
}

/** The classify task's flags on `orchard run` (as on `orchard extract`); the trailing instruction is PROMPT_FLAGS' --trailing-instruction. */
const CLASSIFY_RUN_FLAGS = {
    "task": {
        type: "string", choices: ["extract", "classify"], default: "extract",
        describe: "extract: the re-ask's 32 attributes; classify: the model first picks one of --labels, then the re-ask asks about that label " +
            "(--trailing-instruction with {label_name} and/or {label}); outputs <input file name>.attributes.jsonl and <input file name>.predictions.jsonl"
    },
    "labels": {type: "string", describe: "classify: label display names JSONL, {\"label\": 0, \"name\": \"...\"} per line (2 or more labels), checked before anything runs"},
    "label-prompt": {
        type: "string",
        describe: `classify: stage-1 prompt template with {prompt}, {document}, {labels} (default: ${JSON.stringify(DEFAULT_LABEL_PROMPT)})`
    }
} as const;

export const runCommand: CommandModule<FleetSessionFlagValues, RunArgs> = {
    command: "run",
    describe: "Coordinate a fleet run: validate the inputs, queue their shards in Redis, merge the workers' results in input order",
    builder: (yargs) => yargs
        // --input repeats, while every other flag given twice keeps its last value as everywhere else in the CLI
        .parserConfiguration({"duplicate-arguments-array": true, "flatten-duplicate-arrays": true})
        .middleware(lastValueWins(["input"]), true)
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file the workers hold (its fingerprint picks the queue)"})
        .option("input", {type: "string", array: true, demandOption: true, describe: "Input JSONL (repeat for several: they are one run)"})
        .option("output-dir", {type: "string", demandOption: true, describe: "Folder of the outputs: <input file name>.attributes.jsonl each (eval_set.jsonl -> eval_set.jsonl.attributes.jsonl)"})
        .options(PROMPT_FLAGS)
        .options(CLASSIFY_RUN_FLAGS)
        .options(INPUT_FLAGS)
        .option("context-size", {type: "number", default: DEFAULT_RUN_CONTEXT_SIZE, describe: "Longest prompt in tokens; longer documents are reported missing (or cut with --truncate)"})
        .option("shard-size", {type: "number", default: DEFAULT_SHARD_SIZE, describe: "Documents per shard (one queue job); the last shards of each input shrink, down to 2, so that the run ends evenly"})
        .option("max-pending-shards", {type: "number", describe: "Shards queued ahead of the merge, at most, counted in full shards' worth of documents (default 64)"})
        .option("shard-attempts", {type: "number", describe: "Attempts of a failing shard before it is reported (default 3)"})
        .option("retry-delay-ms", {type: "number", describe: "First delay before retrying a failed shard (exponential; default 5000)"})
        .option("name", {type: "string", describe: "A label for the run (the start of its id)"})
        .option("overwrite", {type: "boolean", default: false, describe: "Start afresh even if the outputs exist or the same run completed"})
        .options(FLEET_SESSION_FLAGS)
        .options(RUN_DASHBOARD_FLAGS)
        .option("simulate-tokens-per-second", {type: "number", hidden: true, describe: "Tests/benchmarks: a run for simulated workers (never real output)"})
        .example("$0 run --model models/tiny-f32-seed1.gguf --input data/a.jsonl --input data/b.jsonl --output-dir out --local-workers 2", "")
        .example("$0 run --task classify --labels labels.jsonl --trailing-instruction \"Is the sentiment of the review {label_name}?\" --model models/tiny-f32-seed1.gguf --input reviews.jsonl --output-dir out", "") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{createRunMonitorForCli}, {runCoordinator}, {classifyRunTask}] = await Promise.all([
            import("../run-monitor-for-cli.ts"), import("../../run/run-coordinator.ts"), import("../../run/classify-run-task.ts")
        ]);
        const {logger, view} = createRunMonitorForCli(args, {name: "orchard-run", modelHint: pathForDisplay(args.model)});
        // the labels file is read and checked before anything runs (file:line errors, exit 1)
        const task = await classifyTaskFromArgs(args, classifyRunTask);
        const session = fleetSessionOptionsFromArgs(args, logger, interruptSignal(logger));
        const contextSize = args.contextSize;
        const summary = await runCoordinator({
            ...session,
            // local workers need a context at least as large as the run's prompt limit
            localWorkerArgs: ["--context-size", String(contextSize), ...(session.localWorkerArgs ?? [])],
            // messages name the files as pathForDisplay writes them (never ../../ out of the working directory)
            modelPath: pathForDisplay(args.model),
            inputPaths: args.input.map((input) => pathForDisplay(input)),
            outputDir: args.outputDir,
            ...promptOptionsFromArgs(args),
            contextSize,
            shardSize: args.shardSize,
            ...(args.maxPendingShards === undefined ? {} : {maxPendingShards: args.maxPendingShards}),
            ...(args.shardAttempts === undefined ? {} : {shardAttempts: args.shardAttempts}),
            ...(args.retryDelayMs === undefined ? {} : {retryDelayMs: args.retryDelayMs}),
            ...(args.name === undefined ? {} : {name: args.name}),
            overwrite: args.overwrite,
            maxLineBytes: args.maxLineBytes,
            ...(args.simulateTokensPerSecond === undefined ? {} : {simulatedEngine: {tokensPerSecond: args.simulateTokensPerSecond}}),
            task,
            onEvent: view.onEvent, beforeRedisClose: view.stop
        }).finally(view.stop);
        reportRunSummary(summary);
    }
};

/** The classify task of `--task classify` (labels read and checked), or undefined for the re-ask; a classify flag without it is a mistake. */
async function classifyTaskFromArgs(args: RunArgs, read: typeof import("../../run/classify-run-task.ts").classifyRunTask) {
    if (args.task !== "classify") {
        const stray = ([["--labels", args.labels], ["--label-prompt", args.labelPrompt]] as const).find(([, value]) => value !== undefined);
        if (stray !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${stray[0]} is for --task classify: add --task classify, or leave it out`);
        return undefined;
    }
    if (args.labels === undefined)
        throw new OrchardError("INVALID_ARGUMENT", "--task classify needs --labels: a JSONL file of {\"label\": <integer>, \"name\": \"<text>\"}, one label per line");
    return read({labelsPath: pathForDisplay(args.labels), ...(args.labelPrompt === undefined ? {} : {labelPrompt: args.labelPrompt})});
}

/** Keeps the last value of every repeated flag except `repeatable` ones (applied before validation). */
function lastValueWins(repeatable: readonly string[]) {
    return (args: Record<string, unknown>) => {
        for (const key of Object.keys(args))
            if (key !== "_" && !repeatable.includes(key) && Array.isArray(args[key])) args[key] = (args[key] as unknown[]).at(-1);
    };
}
