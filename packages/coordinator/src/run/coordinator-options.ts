import {resolve} from "node:path";
import {
    DEFAULT_KEY_PREFIX, DEFAULT_MAX_PENDING_SHARDS, DEFAULT_RETRY_DELAY_MS, DEFAULT_RUN_CONTEXT_SIZE, DEFAULT_SHARD_ATTEMPTS,
    DEFAULT_SHARD_SIZE, DEFAULT_SHARD_TAPER, DEFAULT_STATE_DIR, DEFAULT_RUN_TASK, machineRequirementSchema, OrchardError, resolveMaxLineBytes, resolveNumericsSettings, resolvePromptSettings, runTaskSchema, type Logger,
    type MachineRequirement, type NumericsOptions, type NumericsSettings, type PromptOptions, type PromptSettings, type RunTask,
    type ShardTaper
} from "@orchard/shared";
import {assertRunTaskPrompt} from "./classify-run-task.ts";
import type {CoordinatorEvent} from "./coordinator-events.ts";
import {advertisedRedisOf, type AdvertisedRedis} from "./run-advertisement.ts";

/** How a coordinator reaches the fleet and runs local workers: shared by run, resume and retry-failed. */
export interface FleetSessionOptions {
    /** The fleet's Redis URL. Default: an embedded redis-server under `stateDir`. */
    readonly redisUrl?: string;
    /** Prefix of Orchard's Redis keys. Default "orchard". */
    readonly keyPrefix?: string;
    /** Folder of the embedded Redis. Default ".orchard" in the working directory. */
    readonly stateDir?: string;
    /** Listen address of the embedded Redis. Default "127.0.0.1"; another address (0.0.0.0) lets other Macs join, with a password. */
    readonly redisBind?: string;
    /** Workers started beside the coordinator. Default 1 with the embedded Redis, 0 with a URL. */
    readonly localWorkers?: number;
    /**
     * Advertise this coordinator on the LAN by DNS-SD (`_orchard._tcp`: run ids, Redis port, TLS,
     * never the password), for `orchard worker --join`. Default: when the embedded Redis listens
     * beyond loopback (`redisBind` 0.0.0.0); true with a `redisUrl` advertises that URL's host and port.
     */
    readonly advertise?: boolean;
    /** argv prefix that runs the `orchard` CLI, for local workers (e.g. [process.execPath, "bin/orchard.js"]). */
    readonly localWorkerCommand?: readonly string[];
    /** Extra `orchard worker` arguments for local workers (engine flags, log level). */
    readonly localWorkerArgs?: readonly string[];
    /** Milliseconds between looks at Redis for new results while none is mergeable. Default 200. */
    readonly pollIntervalMs?: number;
    /** Milliseconds between re-adds of the pending window (recovers jobs a Redis crash lost). Default 10,000. */
    readonly reconcileIntervalMs?: number;
    readonly logger?: Logger;
    /** Aborting stops the coordinator after its current merge step; the run stays resumable. */
    readonly signal?: AbortSignal;
    /** Progress and lifecycle events (the CLI's progress view). */
    readonly onEvent?: (event: CoordinatorEvent) => void;
    /**
     * Awaited when the session is over, before the coordinator closes its Redis and stops an
     * embedded one: observers with their own connections to it (the live view, the dashboard) close
     * them here, instead of reconnecting to a server that is gone. Its errors are ignored.
     */
    readonly beforeRedisClose?: () => Promise<void>;
}

/** `orchard run`: a new run (or the unfinished run of the same command). */
export interface RunOptions extends FleetSessionOptions, PromptOptions {
    /** The GGUF model the workers hold: its fingerprint picks the queue. */
    readonly modelPath: string;
    readonly inputPaths: readonly string[];
    /** Outputs are `<outputDir>/<input file name>.attributes.jsonl` (and the task kind's companions). */
    readonly outputDir: string;
    /** Cut documents whose prompt exceeds `contextSize` instead of reporting them missing. Default false. */
    readonly truncate?: boolean;
    /** The run's prompt limit in tokens (BOS included). Default 4096, as `extract`. */
    readonly contextSize?: number;
    /** Documents per shard. Default DEFAULT_SHARD_SIZE (32). */
    readonly shardSize?: number;
    /** How the last shards of each input shrink; false keeps every shard at shardSize. Default DEFAULT_SHARD_TAPER. */
    readonly shardTaper?: ShardTaper | false;
    /** Shards enqueued ahead of the merge cursor, at most. Default 64. */
    readonly maxPendingShards?: number;
    /** Attempts of a shard whose processing throws. Default 3. */
    readonly shardAttempts?: number;
    /** First retry delay of a failed attempt, in ms (exponential). Default 5,000. */
    readonly retryDelayMs?: number;
    /** A label for the run, shown in its id. */
    readonly name?: string;
    /** Start a new run even if the outputs exist or the same run completed. Default false. */
    readonly overwrite?: boolean;
    /** Longest input line accepted, in bytes. Default DEFAULT_MAX_LINE_BYTES (8 MiB). */
    readonly maxLineBytes?: number;
    /** Tests and benchmarks only: the run is for workers with the simulated engine (its own fingerprint). */
    readonly simulatedEngine?: {readonly tokensPerSecond: number};
    /** What the run computes per document, with its settings checked (classifyRunTask for --task classify, generateRunTask for --task generate). Default: the re-ask. */
    readonly task?: RunTask;
    /** The settings that change the numbers (batch size, engine route, flash attention), pinned for every worker. Default DEFAULT_NUMERICS. */
    readonly numerics?: NumericsOptions;
    /** Machines the run accepts (backend, chip substring); others leave its shards alone. Default: any. */
    readonly requires?: MachineRequirement;
    /**
     * Serve the model file to the fleet over HTTP while the run is coordinated here (ServedModel):
     * listen address (default: `redisBind`, else 127.0.0.1) and port (0, the default: any free one).
     * Default: not served.
     */
    readonly serveModel?: {readonly host?: string; readonly port?: number};
}

export interface ResolvedFleetSessionOptions {
    readonly redisUrl: string | undefined;
    readonly keyPrefix: string;
    readonly stateDir: string;
    readonly redisBind: string | undefined;
    /** What to advertise on the LAN (advertisedRedisOf), or undefined: not advertised. */
    readonly advertise: AdvertisedRedis | undefined;
    readonly localWorkers: number;
    readonly localWorkerCommand: readonly string[];
    readonly localWorkerArgs: readonly string[];
    readonly pollIntervalMs: number;
    readonly reconcileIntervalMs: number;
    readonly logger: Logger | undefined;
    readonly signal: AbortSignal | undefined;
    readonly onEvent: (event: CoordinatorEvent) => void;
    readonly beforeRedisClose: () => Promise<void>;
}

export interface ResolvedRunOptions extends ResolvedFleetSessionOptions {
    readonly modelPath: string;
    readonly inputPaths: readonly string[];
    readonly outputDir: string;
    readonly prompt: PromptSettings;
    readonly truncate: boolean;
    readonly contextSize: number;
    readonly shardSize: number;
    readonly shardTaper: ShardTaper | undefined;
    readonly maxPendingShards: number;
    readonly shardAttempts: number;
    readonly retryDelayMs: number;
    readonly name: string | undefined;
    readonly overwrite: boolean;
    readonly maxLineBytes: number;
    readonly simulatedEngine: {readonly tokensPerSecond: number} | undefined;
    readonly task: RunTask;
    readonly numerics: NumericsSettings;
    readonly requires: MachineRequirement | undefined;
    readonly serveModel: {readonly host: string; readonly port: number} | undefined;
}

export function resolveFleetSessionOptions(options: FleetSessionOptions): ResolvedFleetSessionOptions {
    const redisUrl = options.redisUrl === undefined || options.redisUrl.trim() === "" ? undefined : options.redisUrl.trim();
    const localWorkers = options.localWorkers ?? (redisUrl === undefined ? 1 : 0);
    if (!Number.isInteger(localWorkers) || localWorkers < 0)
        throw new OrchardError("INVALID_ARGUMENT", `--local-workers must be a non-negative integer (got ${localWorkers})`);
    return {
        redisUrl,
        keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
        stateDir: resolve(options.stateDir ?? DEFAULT_STATE_DIR),
        redisBind: options.redisBind,
        advertise: advertisedRedisOf({advertise: options.advertise, redisUrl, redisBind: options.redisBind}),
        localWorkers,
        localWorkerCommand: options.localWorkerCommand ?? [],
        localWorkerArgs: options.localWorkerArgs ?? [],
        pollIntervalMs: positive("pollIntervalMs", options.pollIntervalMs ?? 200),
        reconcileIntervalMs: positive("reconcileIntervalMs", options.reconcileIntervalMs ?? 10_000),
        logger: options.logger,
        signal: options.signal,
        onEvent: options.onEvent ?? (() => undefined),
        beforeRedisClose: options.beforeRedisClose ?? (() => Promise.resolve())
    };
}

export function resolveRunOptions(options: RunOptions): ResolvedRunOptions {
    if (options.inputPaths.length === 0) throw new OrchardError("INVALID_ARGUMENT", "give at least one --input");
    const tokensPerSecond = options.simulatedEngine?.tokensPerSecond;
    const prompt = resolvePromptSettings(options);
    if (tokensPerSecond !== undefined && !(tokensPerSecond > 0))
        throw new OrchardError("INVALID_ARGUMENT", `the simulated engine's tokens/s must be positive (got ${tokensPerSecond})`);
    const contextSize = positive("--context-size", options.contextSize ?? DEFAULT_RUN_CONTEXT_SIZE);
    return {
        ...resolveFleetSessionOptions(options),
        modelPath: options.modelPath,
        inputPaths: options.inputPaths,
        outputDir: resolve(options.outputDir),
        prompt,
        truncate: options.truncate ?? false,
        contextSize,
        numerics: resolveNumericsSettings(options.numerics ?? {}, contextSize),
        requires: resolveRequirement(options.requires),
        shardSize: positive("--shard-size", options.shardSize ?? DEFAULT_SHARD_SIZE),
        shardTaper: options.shardTaper === false ? undefined : {...(options.shardTaper ?? DEFAULT_SHARD_TAPER)},
        maxPendingShards: positive("--max-pending-shards", options.maxPendingShards ?? DEFAULT_MAX_PENDING_SHARDS),
        shardAttempts: positive("--shard-attempts", options.shardAttempts ?? DEFAULT_SHARD_ATTEMPTS),
        retryDelayMs: nonNegative("--retry-delay-ms", options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS),
        name: options.name,
        overwrite: options.overwrite ?? false,
        maxLineBytes: resolveMaxLineBytes(options.maxLineBytes),
        task: resolveRunTask(options.task, prompt),
        simulatedEngine: options.simulatedEngine,
        serveModel: resolveServeModel(options)
    };
}

function resolveServeModel(options: RunOptions): ResolvedRunOptions["serveModel"] {
    if (options.serveModel === undefined) return undefined;
    const port = options.serveModel.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new OrchardError("INVALID_ARGUMENT", `--serve-model-port must be a port number (got ${port})`);
    return {host: options.serveModel.host ?? options.redisBind ?? "127.0.0.1", port};
}

function positive(name: string, value: number): number {
    if (!Number.isInteger(value) || value <= 0) throw new OrchardError("INVALID_ARGUMENT", `${name} must be a positive integer (got ${value})`);
    return value;
}

function nonNegative(name: string, value: number): number {
    if (!Number.isInteger(value) || value < 0) throw new OrchardError("INVALID_ARGUMENT", `${name} must be a non-negative integer (got ${value})`);
    return value;
}

/** The run's machine requirement, checked as a shard job will carry it; an empty one is none. */
function resolveRequirement(requires: MachineRequirement | undefined): MachineRequirement | undefined {
    if (requires === undefined || (requires.backend === undefined && requires.chip === undefined)) return undefined;
    const parsed = machineRequirementSchema.safeParse(requires);
    if (!parsed.success)
        throw new OrchardError("INVALID_ARGUMENT", `--require-backend / --require-chip: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
    return parsed.data;
}

/** The run's task, checked as a shard job will carry it (a library caller's task is input too) and against the prompt settings. */
function resolveRunTask(task: RunTask | undefined, prompt: PromptSettings): RunTask {
    if (task === undefined) return DEFAULT_RUN_TASK;
    const parsed = runTaskSchema.safeParse(task);
    if (!parsed.success) throw new OrchardError("INVALID_ARGUMENT", `the run's task is not valid: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
    assertRunTaskPrompt(parsed.data, prompt);
    return parsed.data;
}
