import type {CommandModule} from "yargs";
import {retryFailedRun} from "../../run/run-coordinator.ts";
import {FLEET_SESSION_FLAGS, fleetSessionOptionsFromArgs, interruptSignal, type FleetSessionFlagValues} from "../fleet-session-flags.ts";
import {reportRunSummary} from "../report-run-summary.ts";
import {createRunMonitorForCli} from "../dashboard-flags.ts";

interface RunIdArgs extends FleetSessionFlagValues {
    run: string;
}

export const retryFailedCommand: CommandModule<FleetSessionFlagValues, RunIdArgs> = {
    command: "retry-failed <run>",
    describe: "Rerun the shards of a finished run that failed for good, and put their documents into the outputs in order",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "The run id"})
        .options(FLEET_SESSION_FLAGS) as never,
    handler: async (args) => {
        const {logger, view} = createRunMonitorForCli(args, {name: "orchard-retry-failed"});
        const summary = await retryFailedRun({
            ...fleetSessionOptionsFromArgs(args, logger, interruptSignal(logger)), runId: args.run, onEvent: view.onEvent,
            onNothingToRetry: () => process.stdout.write(`Run ${args.run} has no failed shards to retry\n`)
        }).finally(view.stop);
        reportRunSummary(summary);
    }
};
