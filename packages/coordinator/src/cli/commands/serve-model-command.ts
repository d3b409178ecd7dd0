import {
    createLogger, FLEET_CONNECTION_FLAGS, OrchardError, pathForDisplay, prettyLogsFor, readLiveEmbeddedRedisEndpoint, readOrchardEnvironment, type FleetConnectionFlagValues, type GlobalCliOptions
} from "@orchard/shared";
import type {CommandModule} from "yargs";

interface ServeModelArgs extends FleetConnectionFlagValues, GlobalCliOptions {
    file: string;
    port: number;
    bind: string;
}

export const serveModelCommand: CommandModule<GlobalCliOptions, ServeModelArgs> = {
    command: "serve-model <file>",
    describe: "Serve a GGUF model to the fleet over HTTP until stopped: workers started with --model-cache download it (token-protected; the token is kept in Redis, never printed)",
    builder: (yargs) => yargs
        .positional("file", {type: "string", demandOption: true, describe: "The GGUF model file"})
        .option("port", {type: "number", default: 0, describe: "Port to listen on (0: any free port)"})
        .option("bind", {type: "string", default: "0.0.0.0", describe: "Address to listen on (0.0.0.0: every interface; 127.0.0.1: this machine's workers only)"})
        .options(FLEET_CONNECTION_FLAGS)
        .example("ORCHARD_REDIS_URL=redis://:secret@coordinator.local:6379 $0 serve-model ~/models/mixtral.gguf", "serve a model from a machine other than the coordinator") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{FleetRedis}, {ServedModel}] = await Promise.all([import("../../redis/fleet-redis.ts"), import("../../model-server/served-model.ts")]);
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-serve-model"});
        const redisUrl = args.redis ?? readOrchardEnvironment().redisUrl;
        // an embedded Redis started just for this command would be one no run and no worker sees
        if (redisUrl === undefined && await readLiveEmbeddedRedisEndpoint(args.stateDir) === undefined)
            throw new OrchardError("INVALID_ARGUMENT",
                `no fleet to serve the model to: pass --redis <url> (or set ORCHARD_REDIS_URL), or start \`orchard run\` in this folder first (no embedded Redis is running under ${args.stateDir})`);
        await using fleet = await FleetRedis.open({redisUrl, stateDir: args.stateDir, mode: "join", logger});
        const stopped = new Promise<void>((resolve) => {
            process.once("SIGINT", () => resolve());
            process.once("SIGTERM", () => resolve());
            process.once("SIGHUP", () => resolve());
        });
        await using served = await ServedModel.start({
            modelPath: args.file, redis: fleet.client, keyPrefix: args.redisPrefix, stateDir: args.stateDir, host: args.bind, port: args.port, logger
        });
        process.stdout.write(`Serving ${pathForDisplay(args.file)} (${served.source.sizeBytes} bytes, fingerprint ${served.source.fingerprint.slice(0, 16)}) at ${served.source.url}; Ctrl-C to stop\n`);
        await stopped;
    }
};
