import {
    createLogger, embeddedRedisUrl, FLEET_CONNECTION_FLAGS, OrchardError, prettyLogsFor, readLiveEmbeddedRedisEndpoint, readOrchardEnvironment,
    redactRedisUrl, type FleetConnectionFlagValues, type GlobalCliOptions
} from "@orchard/shared";
import type {CommandModule} from "yargs";
import type {ShardEngineFactory} from "../../fleet/shard-engine-factory.ts";
import {ENGINE_FLAGS, engineOptionsFromArgs} from "./extract-command.ts";

interface WorkerArgs extends GlobalCliOptions, FleetConnectionFlagValues {
    model: string;
    name?: string;
    concurrency?: number;
    contextSize: number;
    batchSize: number;
    threads?: number;
    contexts: number;
    gpu: string;
    engineRoute: string;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    shutdownTimeoutMs?: number;
    simulateTokensPerSecond?: number;
    exitWithParent: boolean;
}

/** How often a worker started with --exit-with-parent checks that its parent is still there. */
const PARENT_CHECK_MS = 1000;

export interface WorkerCommandOptions {
    /** Builds the workers' engine. Default the model's (or the simulated one); tests pass one that wraps it. */
    readonly createEngine?: ShardEngineFactory;
}

/** `orchard worker`, building its engine with `options.createEngine` (test/support/fault-orchard.js passes a faulty one). */
export function createWorkerCommand(options: WorkerCommandOptions = {}): CommandModule<GlobalCliOptions, WorkerArgs> {
    return {...workerCommand, handler: (args) => runWorker(args, options)};
}

export const workerCommand: CommandModule<GlobalCliOptions, WorkerArgs> = {
    command: "worker",
    describe: "Join the fleet: take shards of runs made for this model from Redis until stopped (Ctrl-C finishes or returns the current shard)",
    builder: (yargs) => yargs
        .option("model", {alias: "model-path", type: "string", demandOption: true, describe: "Mixtral GGUF file (its fingerprint picks the runs this worker serves)"})
        .options(FLEET_CONNECTION_FLAGS)
        .option("name", {type: "string", describe: "Name in logs and in BullMQ (default: <host>-<pid>)"})
        .option("concurrency", {type: "number", describe: "Shards held at once; their documents share --contexts, oldest shard first, so the next shard is at hand when one ends (default 2)"})
        .options(ENGINE_FLAGS)
        .option("lock-duration-ms", {type: "number", describe: "BullMQ lock of a shard, renewed every half (default 60000)"})
        .option("stalled-interval-ms", {type: "number", describe: "How often to look for shards of dead workers (default 30000)"})
        .option("shutdown-timeout-ms", {type: "number", describe: "On stop, finish the current shard within this long, else give it back (default 15000)"})
        .option("simulate-tokens-per-second", {type: "number", hidden: true, describe: "Tests/benchmarks: fake inference at this speed (serves only simulated runs)"})
        .option("exit-with-parent", {type: "boolean", default: false, hidden: true, describe: "Stop when the parent process exits (local workers of a coordinator)"})
        .example("ORCHARD_REDIS_URL=redis://:secret@fleet-host:6379 $0 worker --model models/mixtral.gguf", "the URL in the environment: a command line is visible to every user in ps")
        .example("$0 worker --model models/mixtral.gguf", "joins the embedded Redis of `orchard run` in this folder") as never,
    handler: (args) => runWorker(args, {})
};

async function runWorker(args: WorkerArgs, options: WorkerCommandOptions): Promise<void> {
    // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
    const {startFleetWorker} = await import("../../fleet/fleet-worker.ts");
    const environment = readOrchardEnvironment();
    const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-worker"});
    const redisUrl = args.redis ?? environment.redisUrl ?? await embeddedUrl(args.stateDir);
    const worker = await startFleetWorker({
        modelPath: args.model,
        redisUrl,
        keyPrefix: args.redisPrefix,
        ...(args.name === undefined ? {} : {name: args.name}),
        concurrency: args.concurrency,
        engine: engineOptionsFromArgs(args),
        ...(args.simulateTokensPerSecond === undefined ? {} : {simulatedEngine: {tokensPerSecond: args.simulateTokensPerSecond}}),
        ...(args.lockDurationMs === undefined ? {} : {lockDurationMs: args.lockDurationMs}),
        ...(args.stalledIntervalMs === undefined ? {} : {stalledIntervalMs: args.stalledIntervalMs}),
        ...(args.shutdownTimeoutMs === undefined ? {} : {shutdownTimeoutMs: args.shutdownTimeoutMs}),
        ...(options.createEngine === undefined ? {} : {createEngine: options.createEngine}),
        logger
    });
    logger.info({redis: redactRedisUrl(redisUrl), queue: worker.queueName}, `worker ${worker.name} joined the fleet`);
    await new Promise<void>((resolve) => {
        let signals = 0;
        const stop = (why: string) => {
            signals++;
            if (signals === 1) {
                logger.info({why}, "stopping: finishing the current shard (again to give it back now)");
                void worker.close().then(resolve, (error: unknown) => {
                    logger.error({err: error}, "error while stopping");
                    resolve();
                });
            } else worker.returnShards();
        };
        process.on("SIGINT", () => stop("SIGINT"));
        process.on("SIGTERM", () => stop("SIGTERM"));
        // a closed terminal hangs up the whole foreground group, local workers of `orchard run` included: stop cleanly
        process.on("SIGHUP", () => stop("SIGHUP"));
        if (args.exitWithParent) {
            const parent = process.ppid;
            // a parent killed with SIGKILL sends nothing: notice that we were re-parented instead
            const timer = setInterval(() => {
                if (process.ppid !== parent) {
                    clearInterval(timer);
                    stop("parent exited");
                }
            }, PARENT_CHECK_MS);
            timer.unref();
        }
    });
    process.stdout.write(`Worker ${worker.name}: ${worker.stats.shards} shards, ${worker.stats.documents} documents, ${worker.stats.tokens} tokens\n`);
}

async function embeddedUrl(stateDir: string): Promise<string> {
    const live = await readLiveEmbeddedRedisEndpoint(stateDir);
    if (live === undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            "no Redis to join: pass --redis <url> (the URL `orchard run` prints), set ORCHARD_REDIS_URL, " +
            `or start \`orchard run\` in this folder first (no embedded Redis is running under ${stateDir})`);
    return embeddedRedisUrl(live);
}
