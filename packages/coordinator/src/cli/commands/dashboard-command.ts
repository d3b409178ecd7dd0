import {
    createLogger, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, embeddedRedisUrl, FLEET_CONNECTION_FLAGS, OrchardError, prettyLogsFor,
    readLiveEmbeddedRedisEndpoint, readOrchardEnvironment, resolveWebToken, webServerFlags, type FleetConnectionFlagValues, type GlobalCliOptions
} from "@orchard/shared";
import type {CommandModule} from "yargs";
import {resolveDashboardOptions} from "../../monitor/dashboard/dashboard-options.ts";

interface DashboardArgs extends FleetConnectionFlagValues, GlobalCliOptions {
    port: number;
    host: string;
    token?: string;
    tokenFile?: string;
    refreshMs: number;
}

export const dashboardCommand: CommandModule<GlobalCliOptions, DashboardArgs> = {
    command: "dashboard",
    describe: "Serve the web dashboard: every run's progress, throughput, workers and failed shards (retry, cancel), live; /metrics for Prometheus; /queues for BullMQ",
    builder: (yargs) => yargs
        .options(webServerFlags({service: "dashboard", defaultPort: DEFAULT_DASHBOARD_PORT, defaultHost: DEFAULT_DASHBOARD_HOST, environmentName: "ORCHARD_DASHBOARD_TOKEN"}))
        .option("refresh-ms", {type: "number", default: 1000, describe: "Milliseconds between live updates of an open page"})
        .options(FLEET_CONNECTION_FLAGS)
        .example("$0 dashboard", "http://127.0.0.1:8420 for the embedded Redis of a run in this folder")
        .example("ORCHARD_DASHBOARD_TOKEN=$(openssl rand -hex 16) ORCHARD_REDIS_URL=redis://:secret@fleet-host:6379 $0 dashboard --host 0.0.0.0", "reachable from a phone")
        .example("$0 dashboard --host 0.0.0.0 --token-file ~/.orchard-dashboard-token", "the token from a file of mode 600") as never,
    handler: async (args) => {
        const environment = readOrchardEnvironment();
        const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-dashboard"});
        const token = resolveWebToken({flag: "--token", value: args.token, fileFlag: "--token-file", file: args.tokenFile, environment: environment.dashboardToken}, logger);
        // refuse a public address without a token before anything else
        resolveDashboardOptions({redisUrl: "redis://127.0.0.1", host: args.host, port: args.port, ...(token === undefined ? {} : {token}), refreshMs: args.refreshMs});
        const redisUrl = args.redis ?? environment.redisUrl ?? await embeddedUrl(args.stateDir);
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const {DashboardServer} = await import("../../monitor/dashboard/dashboard-server.ts");
        const server = await DashboardServer.start({
            redisUrl, keyPrefix: args.redisPrefix, stateDir: args.stateDir, host: args.host, port: args.port, refreshMs: args.refreshMs, logger, ...(token === undefined ? {} : {token})
        });
        process.stdout.write(`Dashboard: ${server.url}/${token === undefined ? "" : "   (first visit: append ?token=<your token>)"}\n` +
            `Metrics:   ${server.url}/metrics   Queues: ${server.url}/queues/\n`);
        await new Promise<void>((resolve) => {
            const stop = () => resolve();
            process.once("SIGINT", stop);
            process.once("SIGTERM", stop);
        });
        logger.info("stopping the dashboard");
        await server.close();
    }
};

async function embeddedUrl(stateDir: string): Promise<string> {
    const live = await readLiveEmbeddedRedisEndpoint(stateDir);
    if (live === undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            "no Redis to show: pass --redis <url> (or set ORCHARD_REDIS_URL), or start `orchard run` in this folder first " +
            `(no embedded Redis is running under ${stateDir})`);
    return embeddedRedisUrl(live);
}
