import {createLogger, FLEET_CONNECTION_FLAGS, prettyLogsFor, readOrchardEnvironment, type FleetConnectionFlagValues, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";

interface CancelArgs extends FleetConnectionFlagValues, GlobalCliOptions {
    run: string;
}

export const cancelCommand: CommandModule<GlobalCliOptions, CancelArgs> = {
    command: "cancel <run>",
    describe: "Cancel a run: its coordinator stops, its queued shards are removed, workers drop it; outputs stay as they are",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "The run id"})
        .options(FLEET_CONNECTION_FLAGS) as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const {cancelRun} = await import("../../run/cancel-run.ts");
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-cancel"});
        const redisUrl = args.redis ?? readOrchardEnvironment().redisUrl;
        const outcome = await cancelRun({runId: args.run, ...(redisUrl === undefined ? {} : {redisUrl}), keyPrefix: args.redisPrefix, stateDir: args.stateDir, logger});
        process.stdout.write(`Run ${outcome.runId} cancelled (${outcome.removedJobs} queued shard${outcome.removedJobs === 1 ? "" : "s"} removed)\n`);
    }
};
