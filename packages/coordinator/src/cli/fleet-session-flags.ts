import {FLEET_CONNECTION_FLAGS, readOrchardEnvironment, type FleetConnectionFlagValues, type GlobalCliOptions, type Logger} from "@orchard/shared";
import type {FleetSessionOptions} from "../run/coordinator-options.ts";

/**
 * Flags of the commands that coordinate a run (run, resume, retry-failed). Engine flags are passed
 * through to local workers by name: the coordinator never loads a model, and it does not import
 * the worker package, which validates them.
 */
export const FLEET_SESSION_FLAGS = {
    ...FLEET_CONNECTION_FLAGS,
    "local-workers": {type: "number", describe: "Workers started beside the coordinator (default 1 with the embedded Redis, 0 with --redis)"},
    "redis-bind": {type: "string", describe: "Listen address of the embedded Redis (default 127.0.0.1; 0.0.0.0 lets other machines join, with a generated password)"},
    "advertise": {
        type: "boolean",
        describe: "Advertise this coordinator on the LAN (DNS-SD _orchard._tcp: run ids, Redis port, TLS; never the password) for `orchard worker --join`; default on with --redis-bind beyond loopback, --no-advertise to hide it"
    },
    "threads": {type: "number", describe: "Local workers: llama.cpp CPU threads"},
    "contexts": {type: "number", describe: "Local workers: documents evaluated concurrently"},
    "batch-size": {type: "number", describe: "Local workers: tokens per decode batch they load with (a run's shards are always computed with the run's own)"},
    "gpu": {type: "string", describe: "Local workers: GPU backend (auto, metal, cuda, vulkan, false)"},
    "engine-route": {type: "string", describe: "Local workers: one-pass, three-pass or auto, to load with (a run's shards are always computed with the run's own)"},
    "prefix-reuse": {type: "string", describe: "Local workers: auto (evaluate each prompt's shared prefix once per context) or off, to load with (a run's shards are always computed with the run's own)"},
    "lock-duration-ms": {type: "number", describe: "Local workers: BullMQ lock of a shard (default 60000)"},
    "stalled-interval-ms": {type: "number", describe: "Local workers: how often to look for shards of dead workers (default 30000)"}
} as const;

/** `--output-dir` of resume and retry-failed. */
export const TAKE_OVER_FLAG_DESCRIPTION = "Take over a run this machine has no record of (started elsewhere, with another --state-dir, or by an older Orchard): " +
    "the folder of its outputs; they must be exactly the outputs derived from it and the run's inputs (<folder>/<input file name>.attributes.jsonl, or <input name without .jsonl>.attributes.jsonl for a run made before that naming). " +
    "Without it, the run in Redis must match this machine's record (<state dir>/runs/RUN.json)";

export interface FleetSessionFlagValues extends FleetConnectionFlagValues, GlobalCliOptions {
    readonly localWorkers?: number;
    readonly redisBind?: string;
    readonly advertise?: boolean;
    readonly threads?: number;
    readonly contexts?: number;
    readonly batchSize?: number;
    readonly gpu?: string;
    readonly engineRoute?: string;
    readonly prefixReuse?: string;
    readonly lockDurationMs?: number;
    readonly stalledIntervalMs?: number;
}

/** Session options from parsed flags; the Redis URL falls back to ORCHARD_REDIS_URL. */
export function fleetSessionOptionsFromArgs(args: FleetSessionFlagValues, logger: Logger, signal: AbortSignal): FleetSessionOptions {
    const redisUrl = args.redis ?? readOrchardEnvironment().redisUrl;
    const passThrough: string[] = [];
    const pass = (flag: string, value: string | number | undefined) => {
        if (value !== undefined) passThrough.push(`--${flag}`, String(value));
    };
    pass("threads", args.threads);
    pass("contexts", args.contexts);
    pass("batch-size", args.batchSize);
    pass("gpu", args.gpu);
    pass("engine-route", args.engineRoute);
    pass("prefix-reuse", args.prefixReuse);
    pass("lock-duration-ms", args.lockDurationMs);
    pass("stalled-interval-ms", args.stalledIntervalMs);
    // local workers log what matters (warnings) unless the coordinator is asked for detail
    const workerLevel = args.logLevel === "debug" || args.logLevel === "trace" || args.logLevel === "silent" ? args.logLevel : "warn";
    passThrough.push("--log-level", workerLevel, "--log-format", args.logFormat);
    return {
        ...(redisUrl === undefined ? {} : {redisUrl}),
        keyPrefix: args.redisPrefix,
        stateDir: args.stateDir,
        ...(args.redisBind === undefined ? {} : {redisBind: args.redisBind}),
        advertise: args.advertise,
        ...(args.localWorkers === undefined ? {} : {localWorkers: args.localWorkers}),
        // the same CLI this process runs, so local workers are exactly `orchard worker`
        localWorkerCommand: [process.execPath, ...process.execArgv, process.argv[1] as string],
        localWorkerArgs: passThrough,
        logger,
        signal
    };
}

/**
 * An AbortSignal for Ctrl-C / SIGTERM / SIGHUP: the first stops the coordinator after its current
 * merge step (the run stays resumable, its local workers and embedded Redis stop); a second exits
 * at once. SIGHUP is a closed terminal: left to its default, it would kill the coordinator alone,
 * leaving the embedded redis-server up (Redis ignores SIGHUP) and the run looking coordinated.
 */
export function interruptSignal(logger: Logger): AbortSignal {
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        if (signal === "SIGHUP") ignoreClosedTerminal();
        if (controller.signal.aborted) process.exit(130);
        logger.info({signal}, "stopping: the run stays resumable (again to exit at once)");
        controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    return controller.signal;
}

/** After a hang-up, writes to the gone terminal fail (EIO): they must not crash the orderly stop. */
function ignoreClosedTerminal(): void {
    // added even where a listener exists: a stream piped into stdout has one that rethrows when it is alone
    for (const stream of [process.stdout, process.stderr])
        if (!stream.listeners("error").includes(ignoreWriteError)) stream.on("error", ignoreWriteError);
}

function ignoreWriteError(): void {
    // the terminal is gone: nobody is left to read what was being written
}
