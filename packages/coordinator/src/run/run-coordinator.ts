import {randomBytes} from "node:crypto";
import {mkdir, stat} from "node:fs/promises";
import {basename, join, resolve} from "node:path";
import {
    FleetKeys, modelFingerprint, OrchardError, sha256Json, shardJobId, shardQueueName, simulatedEngineFingerprint, type RunSpec
} from "@orchard/shared";
import {Queue} from "bullmq";
import {FleetRedis} from "../redis/fleet-redis.ts";
import type {RunSummary} from "./coordinator-events.ts";
import {resolveFleetSessionOptions, resolveRunOptions, type FleetSessionOptions, type ResolvedFleetSessionOptions, type RunOptions} from "./coordinator-options.ts";
import {scanInput, type ScannedInput} from "./input-scanner.ts";
import {RunSession} from "./run-session.ts";
import {RunStore, type StoredRun} from "./run-store.ts";

/** `orchard resume RUN` / `orchard retry-failed RUN`. */
export interface ResumeOptions extends FleetSessionOptions {
    readonly runId: string;
}

/**
 * `orchard run`: validates every input completely (as `extract` does), then creates the run, or
 * resumes the unfinished run of the same command (same model, inputs, settings and output folder),
 * and coordinates it until every document is merged, the run is cancelled, or `signal` aborts.
 */
export async function runCoordinator(options: RunOptions): Promise<RunSummary> {
    const resolved = resolveRunOptions(options);
    const log = resolved.logger?.child({component: "coordinator"});
    const outputs = outputPaths(resolved.inputPaths, resolved.outputDir);
    const scanned: ScannedInput[] = [];
    for (const path of resolved.inputPaths) scanned.push(await scanInput(path, resolved.prompt, resolved.shardSize, resolved.shardTaper));
    const real = await modelFingerprint(resolved.modelPath);
    const model = resolved.simulatedEngine === undefined ? real : simulatedEngineFingerprint(real);
    const specKey = sha256Json({
        fingerprint: model.fingerprint, inputs: scanned.map((input) => [input.path, input.sha256]), outputDir: resolved.outputDir,
        prompt: resolved.prompt, truncate: resolved.truncate, contextSize: resolved.contextSize, shardSize: resolved.shardSize, shardTaper: resolved.shardTaper ?? null, name: resolved.name ?? null
    });
    return withFleet(resolved, async (fleet, store, stop) => {
        const existingId = await store.findRunBySpec(specKey);
        const existing = existingId === undefined ? undefined : await store.loadRun(existingId);
        if (existing !== undefined && !resolved.overwrite) {
            if (existing.state.status === "running" || existing.state.status === "incomplete") {
                log?.info({runId: existing.spec.runId}, `resuming run ${existing.spec.runId} (same command, not finished)`);
                return RunSession.execute({...stop, spec: existing.spec, scanned, fleet, store, options: resolved, resumed: true});
            }
            if (existing.state.status === "completed" && await outputsIntact(store, existing))
                return alreadyComplete(existing);
        }
        for (const output of outputs)
            if (!resolved.overwrite && await nonEmptyFile(output))
                throw new OrchardError("OUTPUT_MISMATCH", `${output} exists and is not the output of an unfinished run of this command; pass --overwrite to replace it, or choose another --output-dir`);
        await mkdir(resolved.outputDir, {recursive: true});
        const spec: RunSpec = {
            v: 1, runId: newRunId(resolved.name), specKey, ...(resolved.name === undefined ? {} : {name: resolved.name}), createdAt: new Date().toISOString(),
            model: {path: resolve(resolved.modelPath), fingerprint: model.fingerprint, sizeBytes: model.sizeBytes, ...(model.name === undefined ? {} : {name: model.name})},
            engine: resolved.simulatedEngine === undefined ? {kind: "llama"} : {kind: "simulated", tokensPerSecond: resolved.simulatedEngine.tokensPerSecond},
            queueName: shardQueueName(model.fingerprint),
            inputs: scanned.map((input, i) => ({
                path: input.path, displayPath: input.displayPath, sha256: input.sha256, sizeBytes: input.sizeBytes, documents: input.documents,
                shards: input.shardStarts.length, output: outputs[i] as string
            })),
            outputDir: resolved.outputDir, prompt: resolved.prompt, truncate: resolved.truncate, contextSize: resolved.contextSize,
            shardSize: resolved.shardSize, ...(resolved.shardTaper === undefined ? {} : {shardTaper: resolved.shardTaper}), shardAttempts: resolved.shardAttempts, retryDelayMs: resolved.retryDelayMs, maxPendingShards: resolved.maxPendingShards
        };
        await store.createRun(spec);
        log?.info({runId: spec.runId, queue: spec.queueName, documents: scanned.reduce((sum, input) => sum + input.documents, 0)}, `created run ${spec.runId}`);
        return RunSession.execute({...stop, spec, scanned, fleet, store, options: resolved, resumed: false});
    });
}

/** `orchard resume RUN`: goes on with an unfinished run (after a crash, Ctrl-C, or on another machine with the same files). */
export async function resumeRun(options: ResumeOptions): Promise<RunSummary> {
    const resolved = resolveFleetSessionOptions(options);
    return withFleet(resolved, async (fleet, store, stop) => {
        const run = await store.requireRun(options.runId);
        if (run.state.status === "cancelled") throw new OrchardError("RUN_CANCELLED", `run ${options.runId} was cancelled; start it again with orchard run`);
        if (run.state.status === "completed") return alreadyComplete(run);
        const scanned = await rescan(run.spec);
        return RunSession.execute({...stop, spec: run.spec, scanned, fleet, store, options: resolved, resumed: true});
    });
}

/** `orchard retry-failed RUN`: reruns the shards that failed for good and patches their documents into the outputs. */
export async function retryFailedRun(options: ResumeOptions & {readonly onNothingToRetry?: () => void}): Promise<RunSummary> {
    const resolved = resolveFleetSessionOptions(options);
    return withFleet(resolved, async (fleet, store, stop) => {
        const run = await store.requireRun(options.runId);
        const runId = run.spec.runId;
        if (run.state.status === "cancelled") throw new OrchardError("RUN_CANCELLED", `run ${runId} was cancelled; start it again with orchard run`);
        if (run.state.status === "running" && run.state.cursorShard < totalShards(run.spec))
            throw new OrchardError("INVALID_ARGUMENT", `run ${runId} has not finished its first pass yet: let it finish (orchard resume ${runId}), then retry what failed`);
        const failures = await store.failures(runId);
        if (failures.size > 0) {
            const queue = new Queue(run.spec.queueName, {connection: fleet.client, prefix: store.keys.prefix});
            try {
                // the failed jobs stay in BullMQ's failed set until replaced: remove them so the same ids can be added again
                const shardsPerInput = run.spec.inputs.map((input) => input.shards);
                for (const shard of failures.keys()) {
                    const {input, local} = locate(shardsPerInput, shard);
                    await queue.remove(shardJobId(runId, input, local));
                }
            } finally {
                await queue.close();
            }
            await store.startRetry(runId, [...failures.keys()]);
        } else if ((await store.retrying(runId)).length === 0) {
            options.onNothingToRetry?.();
        }
        const scanned = await rescan(run.spec);
        return RunSession.execute({...stop, spec: run.spec, scanned, fleet, store, options: resolved, resumed: true});
    });
}

/** `<dir>/<input name without .jsonl>.attributes.jsonl` for each input; two inputs may not share a name. */
export function outputPaths(inputPaths: readonly string[], outputDir: string): string[] {
    const outputs = inputPaths.map((input) => join(outputDir, `${basename(input).replace(/\.(jsonl|ndjson|json)$/i, "")}.attributes.jsonl`));
    const seen = new Map<string, string>();
    for (const [i, output] of outputs.entries()) {
        const input = inputPaths[i] as string;
        if (resolve(input) === output) throw new OrchardError("INVALID_ARGUMENT", `the output of ${input} would be the input itself: choose another --output-dir`);
        const other = seen.get(output);
        if (other !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${other} and ${input} would both be written to ${output}: rename one`);
        seen.set(output, input);
    }
    return outputs;
}

/** Opens the fleet's Redis around `body`, with the stop signal a session needs (user signal or a fatal condition). */
async function withFleet<T>(options: ResolvedFleetSessionOptions, body: (fleet: FleetRedis, store: RunStore, stop: {stop: AbortSignal; fatal: () => Error | undefined; onFatal: (error: Error) => void}) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let fatal: Error | undefined;
    const onFatal = (error: Error) => {
        fatal ??= error;
        controller.abort();
    };
    const onSignal = () => controller.abort();
    if (options.signal?.aborted === true) controller.abort();
    options.signal?.addEventListener("abort", onSignal, {once: true});
    await using fleet = await FleetRedis.open({
        redisUrl: options.redisUrl, stateDir: options.stateDir, mode: "own",
        ...(options.redisBind === undefined ? {} : {bind: options.redisBind}),
        ...(options.logger === undefined ? {} : {logger: options.logger}), onFatal
    });
    try {
        return await body(fleet, new RunStore(fleet.client, new FleetKeys(options.keyPrefix)), {stop: controller.signal, fatal: () => fatal, onFatal});
    } finally {
        options.signal?.removeEventListener("abort", onSignal);
        // still inside `await using fleet`: Redis is up while observers disconnect
        await options.beforeRedisClose().catch((error: unknown) => options.logger?.debug({err: error}, "closing the run's observers failed"));
    }
}

/** Inputs of a stored run, validated again and checked to be the very files it started with. */
async function rescan(spec: RunSpec): Promise<ScannedInput[]> {
    const scanned: ScannedInput[] = [];
    for (const input of spec.inputs) {
        // the absolute path: a resume may run from another working directory
        const current = await scanInput(input.path, spec.prompt, spec.shardSize, spec.shardTaper);
        if (current.sha256 !== input.sha256)
            throw new OrchardError("INVALID_ARGUMENT", `${input.displayPath} changed since run ${spec.runId} started, so its outputs cannot be continued; start a new run (orchard run ... --overwrite)`);
        scanned.push({...current, displayPath: input.displayPath});
    }
    return scanned;
}

function alreadyComplete(run: StoredRun): RunSummary {
    const total = run.spec.inputs.reduce((sum, input) => sum + input.documents, 0);
    return {
        runId: run.spec.runId, status: "completed", alreadyComplete: true, resumed: true, totalDocuments: total, mergedDocuments: run.state.mergedDocuments,
        missingDocuments: 0, missing: [], outputs: run.spec.inputs.map((input) => input.output), seconds: 0
    };
}

async function outputsIntact(store: RunStore, run: StoredRun): Promise<boolean> {
    const sizes = await store.outputSizes(run.spec.runId);
    if (sizes === undefined) return false;
    for (const [i, input] of run.spec.inputs.entries()) {
        const size = await stat(input.output).then((info) => info.size, () => -1);
        if (size !== sizes[i]) return false;
    }
    return true;
}

async function nonEmptyFile(path: string): Promise<boolean> {
    return stat(path).then((info) => info.size > 0, () => false);
}

function newRunId(name: string | undefined): string {
    const slug = (name ?? "run").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "run";
    return `${slug}-${randomBytes(4).toString("hex")}`;
}

function totalShards(spec: RunSpec): number {
    return spec.inputs.reduce((sum, input) => sum + input.shards, 0);
}

function locate(shardsPerInput: readonly number[], global: number): {input: number; local: number} {
    let first = 0;
    for (const [input, shards] of shardsPerInput.entries()) {
        if (global < first + shards) return {input, local: global - first};
        first += shards;
    }
    throw new RangeError(`no shard ${global}`);
}
