import type {CommandModule} from "yargs";
import {FLEET_SESSION_FLAGS, fleetSessionOptionsFromArgs, interruptSignal, TAKE_OVER_FLAG_DESCRIPTION, type FleetSessionFlagValues} from "../fleet-session-flags.ts";
import {reportRunSummary} from "../report-run-summary.ts";

interface RunIdArgs extends FleetSessionFlagValues {
    run: string;
    outputDir?: string;
}

export const resumeCommand: CommandModule<FleetSessionFlagValues, RunIdArgs> = {
    command: "resume <run>",
    describe: "Go on coordinating an unfinished run (after a crash or Ctrl-C); running the same `orchard run` again does the same",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "The run id `orchard run` printed"})
        .option("output-dir", {type: "string", describe: TAKE_OVER_FLAG_DESCRIPTION})
        .options(FLEET_SESSION_FLAGS) as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{createRunMonitorForCli}, {resumeRun}] = await Promise.all([import("../run-monitor-for-cli.ts"), import("../../run/run-coordinator.ts")]);
        const {logger, view} = createRunMonitorForCli(args, {name: "orchard-resume"});
        const summary = await resumeRun({...fleetSessionOptionsFromArgs(args, logger, interruptSignal(logger)), runId: args.run, outputDir: args.outputDir, onEvent: view.onEvent, beforeRedisClose: view.stop})
            .finally(view.stop);
        reportRunSummary(summary);
    }
};
