import {
    closeRedis, connectRedis, createLogger, FLEET_CONNECTION_FLAGS, OrchardError, prettyLogsFor, redactRedisUrl, type FleetConnectionFlagValues, type GlobalCliOptions, type Logger
} from "@orchard/shared";
import type {CommandModule} from "yargs";
import type {ShardEngineFactory} from "../../fleet/shard-engine-factory.ts";
import type {WorkerRedisSources} from "../worker-redis-url.ts";
import {engineOptionsFromArgs} from "./extract-command.ts";
import {localFlags, WORKER_FLAGS, withoutModel} from "./worker-flags.ts";
import {installServiceCommand, serviceStatusCommand, uninstallServiceCommand} from "./worker-service-commands.ts";

interface WorkerArgs extends GlobalCliOptions, FleetConnectionFlagValues {
    model?: string;
    modelCache?: string;
    name?: string;
    concurrency?: number;
    contextSize: number;
    batchSize: number;
    threads?: number;
    contexts: number;
    gpu: string;
    engineRoute: string;
    flashAttention?: boolean;
    prefixReuse: string;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    shutdownTimeoutMs?: number;
    shutdownGraceMs?: number;
    simulateTokensPerSecond?: number;
    exitWithParent: boolean;
    redisUrlFile?: string;
    join?: string;
    schedule?: string;
    whenIdle?: string;
    requireAc?: boolean;
    maxThermal?: number;
    minFreeMemory?: string;
    unloadWhenPaused?: boolean;
}

/** Once the worker has stopped, the process exits within this long even if a dead connection holds it. */
const EXIT_BACKSTOP_MS = 5_000;
/** How often a worker started with --exit-with-parent checks that its parent is still there. */
const PARENT_CHECK_MS = 1000;

export interface WorkerCommandOptions {
    /** Builds the workers' engine. Default the model's (or the simulated one); tests pass one that wraps it. */
    readonly createEngine?: ShardEngineFactory;
    /** How the worker finds the fleet's Redis without --redis (the LAN, the terminal). Default the real ones. */
    readonly redisSources?: WorkerRedisSources;
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
            "model": WORKER_FLAGS.model,
            "model-cache": WORKER_FLAGS["model-cache"],
            ...FLEET_CONNECTION_FLAGS,
            "redis-url-file": {type: "string", describe: "File holding the Redis URL (instead of --redis; mode 600: it holds the password): what a worker service reads"},
            "join": {
                type: "string",
                describe: "Join the coordinator of this name found on the LAN (`orchard worker` without --redis lists them; a run id or --name, or a host, also picks one): its Redis password is asked once and kept in <state dir>/joined-redis-url (mode 600)"
            },
            ...withoutModel(WORKER_FLAGS),
            "simulate-tokens-per-second": {type: "number", hidden: true, describe: "Tests/benchmarks: fake inference at this speed (serves only simulated runs)"},
            "exit-with-parent": {type: "boolean", default: false, hidden: true, describe: "Stop when the parent process exits (local workers of a coordinator)"}
        } as const))
        .example("ORCHARD_REDIS_URL=redis://:secret@fleet-host:6379 $0 worker --model models/mixtral.gguf", "the URL in the environment: a command line is visible to every user in ps")
        .example("$0 worker --model models/mixtral.gguf", "joins the embedded Redis of `orchard run` in this folder, else lists the coordinators advertised on the LAN")
        .example("$0 worker --model models/mixtral.gguf --join studio-6379", "joins a coordinator found on the LAN (the password is asked once, then kept)")
        .example("$0 worker --redis redis://:secret@coordinator.local:6379 --model-cache ~/orchard-models", "no model here yet: downloads the run's model from `orchard run --serve-model`")
        .example("$0 worker install-service --model ~/models/mixtral.gguf", "run this worker as a LaunchAgent (macOS) or systemd user service (Linux); the URL from ORCHARD_REDIS_URL") as never,
    handler: (args) => runWorker(args, {})
};

async function runWorker(args: WorkerArgs, options: WorkerCommandOptions): Promise<void> {
    // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
    const {startFleetWorker} = await import("../../fleet/fleet-worker.ts");
    const logger = createLogger({level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-worker"});
    const {resolveWorkerRedisUrl} = await import("../worker-redis-url.ts");
    const redisUrl = await resolveWorkerRedisUrl(args, options.redisSources, logger);
    if ((args.model === undefined) === (args.modelCache === undefined))
        throw new OrchardError("INVALID_ARGUMENT", "give the model with --model FILE, or --model-cache DIR to get it from the fleet (one of them)");
    if (args.modelCache !== undefined && args.simulateTokensPerSecond !== undefined)
        throw new OrchardError("INVALID_ARGUMENT", "--model-cache serves runs of the real engine, not simulated ones");
    const policy = await startSparePolicy(args, logger);
    const modelPath = args.model ?? await modelFromFleet(args.modelCache as string, redisUrl, args.redisPrefix, logger).catch((error: unknown) => {
        policy?.close();
        throw error;
    });
    if (modelPath === undefined) {
        policy?.close();
        return;
    }
    const worker = await startFleetWorker({
        modelPath,
        redisUrl,
        keyPrefix: args.redisPrefix,
        ...(args.name === undefined ? {} : {name: args.name}),
        concurrency: args.concurrency,
        engine: engineOptionsFromArgs(args),
        ...(args.simulateTokensPerSecond === undefined ? {} : {simulatedEngine: {tokensPerSecond: args.simulateTokensPerSecond}}),
        ...(args.lockDurationMs === undefined ? {} : {lockDurationMs: args.lockDurationMs}),
        ...(args.stalledIntervalMs === undefined ? {} : {stalledIntervalMs: args.stalledIntervalMs}),
        ...(args.shutdownTimeoutMs === undefined ? {} : {shutdownTimeoutMs: args.shutdownTimeoutMs}),
        ...(args.shutdownGraceMs === undefined ? {} : {shutdownGraceMs: args.shutdownGraceMs}),
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
    // stopped: a connection dropped while Redis was unreachable can still hold the event loop (BullMQ's
    // blocking client waits on a dead socket); exit then rather than outlive the stop. Unref'd: a clean
    // stop exits at once without it
    setTimeout(() => {
        logger.warn("connections still open after the worker stopped; exiting");
        process.exit(process.exitCode ?? 0);
    }, EXIT_BACKSTOP_MS).unref();
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

/**
 * The model of `--model-cache`: the cached or downloaded model of an open run (fleetModel), waiting
 * for one if need be; undefined when stopped (Ctrl-C, SIGTERM) before there was one. A download
 * stopped this way leaves its partial file, which the next start goes on from.
 */
async function modelFromFleet(cacheDir: string, redisUrl: string, keyPrefix: string, logger: Logger): Promise<string | undefined> {
    const [{fleetModel}, {downloadProgress}] = await Promise.all([import("../../model-cache/fleet-model.ts"), import("../../model-cache/download-progress.ts")]);
    const redis = await connectRedis(redisUrl, {name: "orchard-worker-model", maxReconnectDelayMs: 2000, logger});
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const progress = downloadProgress({logger});
    try {
        return await fleetModel({redis, keyPrefix, cacheDir, signal: stop.signal, logger, download: {onProgress: progress.onProgress}});
    } finally {
        progress.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await closeRedis(redis);
    }
}

