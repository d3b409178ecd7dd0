import {
    createLogger, DEFAULT_STATUS_RUN_LIMIT, FLEET_CONNECTION_FLAGS, prettyLogsFor, readOrchardEnvironment, type FleetConnectionFlagValues, type GlobalCliOptions
} from "@orchard/shared";
import type {CommandModule} from "yargs";

interface StatusArgs extends FleetConnectionFlagValues, GlobalCliOptions {
    run?: string;
    json: boolean;
    watch: boolean;
    intervalMs: number;
    limit: number;
}

export const statusCommand: CommandModule<GlobalCliOptions, StatusArgs> = {
    command: "status [run]",
    describe: "Show the fleet's runs and workers, or one run in detail: progress per input, throughput, ETA, workers, failed shards",
    builder: (yargs) => yargs
        .positional("run", {type: "string", describe: "A run id (default: every recent run, one line each)"})
        .option("json", {type: "boolean", default: false, describe: "Print the status as JSON (the schema in the README; one object per line with --watch)"})
        .option("watch", {type: "boolean", default: false, describe: "Refresh until Ctrl-C"})
        .option("interval-ms", {type: "number", default: 2000, describe: "Refresh interval of --watch"})
        .option("limit", {type: "number", default: DEFAULT_STATUS_RUN_LIMIT, describe: "Runs listed without a run id, newest first"})
        .options(FLEET_CONNECTION_FLAGS)
        .example("$0 status", "every recent run and the workers")
        .example("$0 status sentiment-1a2b3c4d --watch", "one run, refreshed every 2 s") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{FleetRedis}, {StatusCollector}, {renderFleetStatus, renderRunDetail}, {colorFor}] = await Promise.all([
            import("../../redis/fleet-redis.ts"), import("../../monitor/status-collector.ts"),
            import("../../monitor/terminal/status-text.ts"), import("../../monitor/terminal/text-format.ts")
        ]);
        const logger = createLogger({level: args.logLevel === "info" ? "warn" : args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-status"});
        const redisUrl = args.redis ?? readOrchardEnvironment().redisUrl;
        await using fleet = await FleetRedis.open({redisUrl, stateDir: args.stateDir, mode: "join", logger});
        const collector = new StatusCollector({redis: fleet.client, keyPrefix: args.redisPrefix, logger});
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        const interactive = process.stdout.isTTY === true;
        try {
            do {
                const status = await collector.fleet({...(args.run === undefined ? {} : {runId: args.run}), limit: args.limit});
                let text: string;
                if (args.json) text = args.watch ? JSON.stringify(status) : JSON.stringify(status, null, 2);
                else {
                    const options = {color: colorFor(process.stdout), width: process.stdout.columns ?? 100};
                    text = args.run === undefined ? renderFleetStatus(status, options) : renderRunDetail(status.runs[0] as (typeof status.runs)[number], options);
                    if (args.watch) text = interactive
                        ? `\x1b[H\x1b[2J${text}\n\n(refreshing every ${args.intervalMs / 1000} s; Ctrl-C to quit)`
                        : `--- ${status.generatedAt}\n${text}`;
                }
                process.stdout.write(`${text}\n`);
                if (args.watch) await sleep(args.intervalMs, stop.signal);
            } while (args.watch && !stop.signal.aborted);
        } finally {
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
            await collector.close();
        }
    }
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
        }
        signal.addEventListener("abort", done, {once: true});
    });
}
