import {
    createLogger, embeddedRedisUrl, FLEET_CONNECTION_FLAGS, OrchardError, prettyLogsFor, readLiveEmbeddedRedisEndpoint, readOrchardEnvironment,
    readRedisUrlFile, redactRedisUrl, type FleetConnectionFlagValues, type GlobalCliOptions, type Logger
} from "@orchard/shared";
import type {CommandModule} from "yargs";
import type {ShardEngineFactory} from "../../fleet/shard-engine-factory.ts";
import {engineOptionsFromArgs} from "./extract-command.ts";
import {localFlags, WORKER_FLAGS, withoutModel} from "./worker-flags.ts";
import {installServiceCommand, serviceStatusCommand, uninstallServiceCommand} from "./worker-service-commands.ts";

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
    prefixReuse: string;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    shutdownTimeoutMs?: number;
    simulateTokensPerSecond?: number;
    exitWithParent: boolean;
    redisUrlFile?: string;
    schedule?: string;
    whenIdle?: string;
    requireAc?: boolean;
    maxThermal?: number;
    minFreeMemory?: string;
    unloadWhenPaused?: boolean;
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
        .command(installServiceCommand as never)
        .command(uninstallServiceCommand as never)
        .command(serviceStatusCommand as never)
        .options(localFlags({
            "model": {...WORKER_FLAGS.model, demandOption: true},
            ...FLEET_CONNECTION_FLAGS,
            "redis-url-file": {type: "string", describe: "File holding the Redis URL (instead of --redis; mode 600: it holds the password): what a worker service reads"},
            ...withoutModel(WORKER_FLAGS),
            "simulate-tokens-per-second": {type: "number", hidden: true, describe: "Tests/benchmarks: fake inference at this speed (serves only simulated runs)"},
            "exit-with-parent": {type: "boolean", default: false, hidden: true, describe: "Stop when the parent process exits (local workers of a coordinator)"}
        } as const))
        .example("ORCHARD_REDIS_URL=redis://:secret@fleet-host:6379 $0 worker --model models/mixtral.gguf", "the URL in the environment: a command line is visible to every user in ps")
        .example("$0 worker --model models/mixtral.gguf", "joins the embedded Redis of `orchard run` in this folder")
        .example("$0 worker install-service --model ~/models/mixtral.gguf", "run this worker as a LaunchAgent (macOS) or systemd user service (Linux); the URL from ORCHARD_REDIS_URL") as never,
    handler: (args) => runWorker(args, {})
};

async function runWorker(args: WorkerArgs, options: WorkerCommandOptions): Promise<void> {
    // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
    const {startFleetWorker} = await import("../../fleet/fleet-worker.ts");
    const environment = readOrchardEnvironment();
    const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-worker"});
    if (args.redis !== undefined && args.redisUrlFile !== undefined)
        throw new OrchardError("INVALID_ARGUMENT", "give the Redis URL with --redis or --redis-url-file, not both");
    const redisUrl = args.redis ?? (args.redisUrlFile === undefined ? undefined : readRedisUrlFile(args.redisUrlFile)) ?? environment.redisUrl ?? await embeddedUrl(args.stateDir);
    const policy = await startSparePolicy(args, logger);
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
        pausedReason: policy?.decision.allowed === false ? policy.decision.reason : undefined,
        unloadWhenPaused: args.unloadWhenPaused,
        logger
    }).catch((error: unknown) => {
        policy?.close();
        throw error;
    });
    policy?.onChange((decision) => decision.allowed ? worker.resume() : worker.pause(decision.reason));
    logger.info({redis: redactRedisUrl(redisUrl), queue: worker.queueName}, `worker ${worker.name} joined the fleet`);
    await new Promise<void>((resolve) => {
        let signals = 0;
        const stop = (why: string) => {
            signals++;
            if (signals === 1) {
                policy?.close();
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

/** The spare-machine policy's controller when a policy flag is given (its first check done), else undefined. */
async function startSparePolicy(args: WorkerArgs, logger: Logger) {
    const [{resolveSparePolicy, hasSparePolicy}, {SparePolicyController}, {systemProbes}] = await Promise.all([
        import("../../policy/spare-policy.ts"), import("../../policy/spare-policy-controller.ts"), import("../../policy/machine-probes.ts")
    ]);
    const policy = resolveSparePolicy(args);
    if (!hasSparePolicy(policy)) return undefined;
    const controller = await SparePolicyController.start({policy, probes: systemProbes(), logger});
    logger.info({decision: controller.decision}, controller.decision.allowed ? "spare-machine policy: work allowed now" : "spare-machine policy: paused for now");
    return controller;
}

async function embeddedUrl(stateDir: string): Promise<string> {
    const live = await readLiveEmbeddedRedisEndpoint(stateDir);
    if (live === undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            "no Redis to join: pass --redis <url> (the URL `orchard run` prints), set ORCHARD_REDIS_URL, " +
            `or start \`orchard run\` in this folder first (no embedded Redis is running under ${stateDir})`);
    return embeddedRedisUrl(live);
}
