import {
    DEFAULT_RUN_CONTEXT_SIZE, DEFAULT_SHARD_SIZE, INPUT_FLAGS, OrchardError, pathForDisplay, PROMPT_FLAGS, promptOptionsFromArgs, type InputFlagValues, type PromptFlagValues
} from "@orchard/shared";
import {RUN_TASK_FLAGS, runTaskFromArgs, type RunTaskFlagValues} from "../run-task-flags.ts";
import type {CommandModule} from "yargs";
import {FLEET_SESSION_FLAGS, fleetSessionOptionsFromArgs, interruptSignal, type FleetSessionFlagValues} from "../fleet-session-flags.ts";
import {reportRunSummary} from "../report-run-summary.ts";
import {RUN_DASHBOARD_FLAGS, type RunDashboardFlagValues} from "../dashboard-flags.ts";
import {numericsOptionsFromArgs, requirementFromArgs, RUN_NUMERICS_FLAGS, type RunNumericsFlagValues} from "../run-numerics-flags.ts";

interface RunArgs extends FleetSessionFlagValues, PromptFlagValues, InputFlagValues, RunDashboardFlagValues, RunTaskFlagValues, RunNumericsFlagValues {
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
    serveModel: boolean;
    serveModelPort?: number;
    serveModelBind?: string;
}

export const runCommand: CommandModule<FleetSessionFlagValues, RunArgs> = {
    command: "run",
    describe: "Coordinate a fleet run: validate the inputs, queue their shards in Redis, merge the workers' results in input order",
    builder: (yargs) => yargs
        // --input repeats, while every other flag given twice keeps its last value as everywhere else in the CLI
        .parserConfiguration({"duplicate-arguments-array": true, "flatten-duplicate-arrays": true})
        .middleware(lastValueWins(["input"]), true)
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file the workers hold (its fingerprint picks the queue)"})
        .option("input", {type: "string", array: true, demandOption: true, describe: "Input JSONL (repeat for several: they are one run)"})
        .option("output-dir", {type: "string", demandOption: true, describe: "Folder of the outputs: <input file name>.attributes.jsonl each (eval_set.jsonl -> eval_set.jsonl.attributes.jsonl; --task classify adds <input file name>.predictions.jsonl, --task generate writes <input file name>.generated.jsonl instead)"})
        .options(PROMPT_FLAGS)
        .options(INPUT_FLAGS)
        .options(RUN_TASK_FLAGS)
        .option("context-size", {type: "number", default: DEFAULT_RUN_CONTEXT_SIZE, describe: "Longest prompt in tokens; longer documents are reported missing (or cut with --truncate)"})
        .option("shard-size", {type: "number", default: DEFAULT_SHARD_SIZE, describe: "Documents per shard (one queue job); the last shards of each input shrink, down to 2, so that the run ends evenly"})
        .option("max-pending-shards", {type: "number", describe: "Shards queued ahead of the merge, at most, counted in full shards' worth of documents (default 64)"})
        .option("shard-attempts", {type: "number", describe: "Attempts of a failing shard before it is reported (default 3)"})
        .option("retry-delay-ms", {type: "number", describe: "First delay before retrying a failed shard (exponential; default 5000)"})
        .option("name", {type: "string", describe: "A label for the run (the start of its id)"})
        .option("overwrite", {type: "boolean", default: false, describe: "Start afresh even if the outputs exist or the same run completed"})
        .options(FLEET_SESSION_FLAGS)
        // after the session's flags: --batch-size and --engine-route are the run's here, not only its local workers'
        .options(RUN_NUMERICS_FLAGS)
        .option("serve-model", {type: "boolean", default: false, describe: "Serve the model file to the fleet over HTTP while the run is coordinated (token-protected; `orchard worker --model-cache DIR` downloads it)"})
        .option("serve-model-bind", {type: "string", describe: "Listen address of the model server (default: --redis-bind's, else 127.0.0.1)"})
        .option("serve-model-port", {type: "number", describe: "Port of the model server (default: any free port)"})
        .options(RUN_DASHBOARD_FLAGS)
        .option("simulate-tokens-per-second", {type: "number", hidden: true, describe: "Tests/benchmarks: a run for simulated workers (never real output)"})
        .example("$0 run --model models/tiny-f32-seed1.gguf --input data/a.jsonl --input data/b.jsonl --output-dir out --local-workers 2", "")
        .example("$0 run --task classify --labels labels.jsonl --trailing-instruction \"Is the sentiment of the review {label_name}?\" --model models/tiny-f32-seed1.gguf --input reviews.jsonl --output-dir out", "")
        .example("$0 run --task generate --model models/tiny-f32-seed1.gguf --input labels.jsonl --template \"Write a {name} movie review.\" --json-schema review.schema.json --output-dir out --local-workers 2", "") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{createRunMonitorForCli}, {runCoordinator}] = await Promise.all([import("../run-monitor-for-cli.ts"), import("../../run/run-coordinator.ts")]);
        const {logger, view} = createRunMonitorForCli(args, {name: "orchard-run", modelHint: pathForDisplay(args.model)});
        // the labels file and the JSON schema file are read and checked before anything runs (file:line errors, exit 1)
        const task = await runTaskFromArgs(args);
        if (!args.serveModel && (args.serveModelBind !== undefined || args.serveModelPort !== undefined))
            throw new OrchardError("INVALID_ARGUMENT", "--serve-model-bind and --serve-model-port go with --serve-model");
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
            numerics: numericsOptionsFromArgs(args),
            requires: requirementFromArgs(args),
            ...(args.serveModel ? {serveModel: {host: args.serveModelBind, port: args.serveModelPort}} : {}),
            onEvent: view.onEvent, beforeRedisClose: view.stop
        }).finally(view.stop);
        reportRunSummary(summary);
    }
};

/** Keeps the last value of every repeated flag except `repeatable` ones (applied before validation). */
function lastValueWins(repeatable: readonly string[]) {
    return (args: Record<string, unknown>) => {
        for (const key of Object.keys(args))
            if (key !== "_" && !repeatable.includes(key) && Array.isArray(args[key])) args[key] = (args[key] as unknown[]).at(-1);
    };
}
