import {stat} from "node:fs/promises";
import {totalmem} from "node:os";
import {FleetKeys, formatByteSize, modelSourceSchema, OrchardError, runSpecSchema, runStateSchema, type Logger, type ModelSource} from "@orchard/shared";
import type {Redis} from "ioredis";
import {cachedModelPath, downloadModel, type DownloadModelOptions} from "./model-download.ts";

/** Recent runs looked at for an open one (newest first): older runs are long finished. */
const RECENT_RUNS = 200;

export interface FleetModelOptions {
    readonly redis: Redis;
    readonly keyPrefix: string;
    /** The model cache folder (`--model-cache`). */
    readonly cacheDir: string;
    /** This machine's memory in bytes; a larger model is refused. Default os.totalmem(). */
    readonly totalMemoryBytes?: number;
    /** How often to look again while no open run has a model to get, in ms. Default 5,000. */
    readonly pollIntervalMs?: number;
    /** Stops the wait (the worker is stopped before any run needs it). */
    readonly signal?: AbortSignal;
    /** Passed to downloadModel (progress, retries, the free-space probe). */
    readonly download?: Pick<DownloadModelOptions, "attempts" | "retryDelayMs" | "freeDiskBytes" | "onProgress">;
    readonly logger?: Logger;
}

/** A model of an open run: where it is (cached), or where to get it. */
type Candidate = {readonly runId: string; readonly fingerprint: string} & ({readonly cached: string; readonly sizeBytes: number} | {readonly source: ModelSource; readonly sizeBytes: number});

/**
 * The model a worker started with `--model-cache` serves: the model of the oldest open run that
 * is already in the cache, or else one served to the fleet (`orchard run --serve-model`, `orchard
 * serve-model`), downloaded and verified into the cache (downloadModel). Waits while no open run
 * has such a model. Everything read from Redis goes through its schema; the file's name comes from
 * the run's fingerprint, checked hex. A model larger than this machine's memory is passed over,
 * and when every candidate is, refused (MODEL_TOO_LARGE). Undefined when `signal` stops the wait.
 */
export async function fleetModel(options: FleetModelOptions): Promise<string | undefined> {
    const keys = new FleetKeys(options.keyPrefix);
    const memory = options.totalMemoryBytes ?? totalmem();
    const log = options.logger?.child({component: "fleet-model"});
    let waitingSaid = false;
    for (;;) {
        const candidates = await modelCandidates(options.redis, keys, options.cacheDir, log);
        const fitting = candidates.filter((candidate) => candidate.sizeBytes <= memory);
        const chosen = fitting.find((candidate) => "cached" in candidate) ?? fitting[0];
        if (chosen !== undefined) {
            if ("cached" in chosen) {
                log?.info({runId: chosen.runId, model: chosen.cached}, "the model of an open run is in the cache");
                return chosen.cached;
            }
            log?.info({runId: chosen.runId, url: chosen.source.url, sizeBytes: chosen.sizeBytes}, `downloading the model of run ${chosen.runId} (${formatByteSize(chosen.sizeBytes)}) from ${chosen.source.servedBy}`);
            return await downloadModel({
                source: chosen.source, dir: options.cacheDir, ...options.download, ...(options.signal === undefined ? {} : {signal: options.signal}), ...(log === undefined ? {} : {logger: log})
            }).catch((error: unknown) => {
                if (options.signal?.aborted === true) return undefined;
                throw error;
            });
        }
        const tooLarge = candidates[0];
        if (tooLarge !== undefined)
            throw new OrchardError("MODEL_TOO_LARGE",
                `the model of run ${tooLarge.runId} (${formatByteSize(tooLarge.sizeBytes)}) is larger than this machine's memory (${formatByteSize(memory)}): this worker cannot hold it`);
        if (!waitingSaid) log?.info("waiting for an open run whose model is in the cache or served to the fleet (orchard run --serve-model)");
        waitingSaid = true;
        if (!await sleep(options.pollIntervalMs ?? 5000, options.signal)) return undefined;
    }
}

/** The models of the open runs of the real engine, oldest run first: cached, or with a valid source. */
async function modelCandidates(redis: Redis, keys: FleetKeys, cacheDir: string, log: Logger | undefined): Promise<Candidate[]> {
    const runIds = (await redis.zrevrange(keys.runs(), 0, RECENT_RUNS - 1)).reverse();
    const candidates: Candidate[] = [];
    const seen = new Set<string>();
    for (const runId of runIds) {
        const [specText = null, statusText = null] = await redis.hmget(keys.run(runId), "spec", "status");
        const status = runStateSchema.shape.status.safeParse(statusText);
        if (!status.success || (status.data !== "running" && status.data !== "incomplete") || specText === null) continue;
        const spec = runSpecSchema.safeParse(safeJson(specText));
        // a simulated run's fingerprint is not a file's; an invalid record is not ours to follow
        if (!spec.success || spec.data.engine.kind !== "llama" || !/^[0-9a-f]{64}$/.test(spec.data.model.fingerprint)) continue;
        const fingerprint = spec.data.model.fingerprint;
        if (seen.has(fingerprint)) continue;
        seen.add(fingerprint);
        const cached = cachedModelPath(cacheDir, fingerprint);
        const cachedSize = await stat(cached).then((info) => info.size, () => undefined);
        if (cachedSize !== undefined) {
            candidates.push({runId, fingerprint, cached, sizeBytes: cachedSize});
            continue;
        }
        const raw = await redis.get(keys.modelSource(fingerprint));
        if (raw === null) continue;
        const source = modelSourceSchema.safeParse(safeJson(raw));
        if (!source.success || source.data.fingerprint !== fingerprint) {
            log?.warn({runId, key: keys.modelSource(fingerprint)}, "a served model's record in Redis is invalid; passed over");
            continue;
        }
        candidates.push({runId, fingerprint, source: source.data, sizeBytes: source.data.sizeBytes});
    }
    return candidates;
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** False when `signal` ended the sleep. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise((resolve) => {
        if (signal?.aborted === true) return resolve(false);
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve(true);
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            resolve(false);
        };
        signal?.addEventListener("abort", onAbort, {once: true});
    });
}
