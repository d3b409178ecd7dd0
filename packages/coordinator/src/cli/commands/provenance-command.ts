import {createLogger, FLEET_CONNECTION_FLAGS, prettyLogsFor, readOrchardEnvironment, type FleetConnectionFlagValues, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";

interface ProvenanceArgs extends FleetConnectionFlagValues, GlobalCliOptions {
    run: string;
}

export const provenanceCommand: CommandModule<GlobalCliOptions, ProvenanceArgs> = {
    command: "provenance <run>",
    describe: "Print, for every document of a run, the worker, host, chip, backend and node-llama-cpp / llama.cpp build that computed it (JSON lines on stdout, in input order)",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "A run id"})
        .options(FLEET_CONNECTION_FLAGS)
        .example("$0 provenance sentiment-1a2b3c4d > sentiment.provenance.jsonl", "one line per document: id, file, index, line, worker, host, chip, backend, nodeLlamaCpp, llamaCpp") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{FleetRedis}, {writeRunProvenance}] = await Promise.all([import("../../redis/fleet-redis.ts"), import("../../run/run-provenance.ts")]);
        const logger = createLogger({level: args.logLevel === "info" ? "warn" : args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-provenance"});
        const redisUrl = args.redis ?? readOrchardEnvironment().redisUrl;
        await using fleet = await FleetRedis.open({redisUrl, stateDir: args.stateDir, mode: "join", logger});
        await writeRunProvenance({redis: fleet.client, keyPrefix: args.redisPrefix, runId: args.run, output: process.stdout, logger});
    }
};
