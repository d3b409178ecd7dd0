import type {CommandModule} from "yargs";
import {FLEET_SESSION_FLAGS, fleetSessionOptionsFromArgs, interruptSignal, TAKE_OVER_FLAG_DESCRIPTION, type FleetSessionFlagValues} from "../fleet-session-flags.ts";
import {reportRunSummary} from "../report-run-summary.ts";

interface RunIdArgs extends FleetSessionFlagValues {
    run: string;
    outputDir?: string;
}

export const retryFailedCommand: CommandModule<FleetSessionFlagValues, RunIdArgs> = {
    command: "retry-failed <run>",
    describe: "Rerun the shards of a finished run that failed for good, and put their documents into the outputs in order",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "The run id"})
        .option("output-dir", {type: "string", describe: TAKE_OVER_FLAG_DESCRIPTION})
        .options(FLEET_SESSION_FLAGS) as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{createRunMonitorForCli}, {retryFailedRun}] = await Promise.all([import("../run-monitor-for-cli.ts"), import("../../run/run-coordinator.ts")]);
        const {logger, view} = createRunMonitorForCli(args, {name: "orchard-retry-failed"});
        const summary = await retryFailedRun({
            ...fleetSessionOptionsFromArgs(args, logger, interruptSignal(logger)), runId: args.run, outputDir: args.outputDir, onEvent: view.onEvent, beforeRedisClose: view.stop,
            onNothingToRetry: () => process.stdout.write(`Run ${args.run} has no failed shards to retry\n`)
        }).finally(view.stop);
        reportRunSummary(summary);
    }
};
