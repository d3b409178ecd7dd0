import {randomBytes} from "node:crypto";
import {stat} from "node:fs/promises";
import {resolve} from "node:path";
import {
    assertOutputPath, ensureOutputDirectory, FleetKeys, modelFingerprint, OrchardError, runTaskOf, sha256Json, shardQueueName, simulatedEngineFingerprint, taskKind, CURRENT_OUTPUT_NAMING, outputNamingOf, numericsDifference, runNumericsOf, type ModelFingerprint, type NumericsSettings, type OutputNaming, type RunSpec
} from "@orchard/shared";
import {Queue} from "bullmq";
import {FleetRedis} from "../redis/fleet-redis.ts";
import type {RunSummary} from "./coordinator-events.ts";
import {resolveFleetSessionOptions, resolveRunOptions, type FleetSessionOptions, type ResolvedFleetSessionOptions, type ResolvedRunOptions, type RunOptions} from "./coordinator-options.ts";
import {failedShardsToRetry, requeueFailedShards} from "./failed-shard-retry.ts";
import {firstDifference} from "./first-difference.ts";
import {runMaxLineBytes, scanInput, type ScannedInput} from "./input-scanner.ts";
import {LocalRunRecords} from "./local-run-records.ts";
import {runTaskIdentity} from "./classify-run-task.ts";
import {allOutputPaths, assertOutputsAreNotInputs, companionOutputPaths, outputPaths} from "./run-outputs.ts";
import {RunLayout} from "./run-layout.ts";
import {RunSession, type RunSessionInit} from "./run-session.ts";
import {ServedModel} from "../model-server/served-model.ts";
import {RunStore, type StoredRun} from "./run-store.ts";

/** `orchard resume RUN` / `orchard retry-failed RUN`. */
export interface ResumeOptions extends FleetSessionOptions {
    readonly runId: string;
    /**
     * Takes over a run this machine has no record of (started elsewhere, with another state dir, or
     * by an older Orchard): the folder of its outputs. The run's outputs must be exactly the ones
     * derived from it and the run's inputs. Default: the run must match this machine's record.
     */
    readonly outputDir?: string;
}

/**
 * `orchard run`: validates every input completely (as `extract` does), then creates the run, or
 * resumes the unfinished run of the same command (same model, inputs, settings and output folder),
 * and coordinates it until every document is merged, the run is cancelled, or `signal` aborts.
 */
export async function runCoordinator(options: RunOptions): Promise<RunSummary> {
    const resolved = resolveRunOptions(options);
    const log = resolved.logger?.child({component: "coordinator"});
    const kind = taskKind(resolved.task.kind);
    const outputs = outputPaths(resolved.inputPaths, resolved.outputDir, kind);
    // every file the run writes: the main outputs and the kind's companions (classify's predictions)
    const allOutputs = [...outputs, ...companionOutputPaths(resolved.inputPaths, resolved.outputDir, kind).flat()];
    // before the inputs are read (minutes for large ones): an output folder that is a file, or an output that is a folder
    await assertOutputPath(resolved.outputDir, "folder", "--output-dir");
    for (const output of allOutputs) await assertOutputPath(output, "file", "--output-dir");
    const scanned: ScannedInput[] = [];
    for (const path of resolved.inputPaths) scanned.push(await scanInput(path, resolved.prompt, resolved.shardSize, resolved.shardTaper, resolved.maxLineBytes, resolved.task));
    const real = await modelFingerprint(resolved.modelPath);
    const model = resolved.simulatedEngine === undefined ? real : simulatedEngineFingerprint(real);
    // without maxLineBytes: the limit changes no output, and inputs with the same hash passed whichever limit the run holds
    const specKey = sha256Json({
        fingerprint: model.fingerprint, inputs: scanned.map((input) => [input.path, input.sha256]), outputDir: resolved.outputDir,
        prompt: resolved.prompt, truncate: resolved.truncate, contextSize: resolved.contextSize, shardSize: resolved.shardSize, shardTaper: resolved.shardTaper ?? null, name: resolved.name ?? null,
        // only for other kinds than the re-ask: a re-ask run's key stays what it was before task kinds
        ...(resolved.task.kind === "reask" ? {} : {task: runTaskIdentity(resolved.task)})
    });
    await assertOutputsAreNotInputs(scanned, allOutputs);
    const records = new LocalRunRecords(resolved.stateDir);
    // with --serve-model, the model is served while the run is coordinated, and its record goes with it
    const execute = async (init: RunSessionInit): Promise<RunSummary> => {
        await using _served = resolved.serveModel === undefined ? undefined : await ServedModel.start({
            modelPath: resolved.modelPath, fingerprint: real, redis: init.fleet.client, keyPrefix: resolved.keyPrefix, stateDir: resolved.stateDir,
            host: resolved.serveModel.host, port: resolved.serveModel.port, ...(resolved.logger === undefined ? {} : {logger: resolved.logger})
        });
        // awaited here: the model is served until the session ends
        return await RunSession.execute(init);
    };
    return withFleet(resolved, async (fleet, store, stop) => {
        const existingId = await store.findRunBySpec(specKey);
        const existing = existingId === undefined ? undefined : await store.loadRun(existingId);
        if (existing !== undefined && !resolved.overwrite) {
            // a run made before the output naming was recorded keeps its names (the spec key has no naming, so this command finds it)
            const naming = outputNamingOf(existing.spec);
            const existingOutputs = naming === CURRENT_OUTPUT_NAMING ? outputs : outputPaths(resolved.inputPaths, resolved.outputDir, kind, naming);
            if (existingOutputs !== outputs) await assertOutputsAreNotInputs(scanned, [...existingOutputs, ...companionOutputPaths(resolved.inputPaths, resolved.outputDir, kind, naming).flat()]);
            // the record comes from Redis, which any worker can write: go on with it only if it is this very command's run
            const derived = buildSpec(resolved, scanned, model, existingOutputs, specKey, existing.spec.runId, existing.spec.createdAt, naming);
            const expected: RunSpec = {
                ...derived,
                // not part of what makes two commands the same run: the run keeps its own
                inputs: derived.inputs.map((input, i) => ({...input, displayPath: existing.spec.inputs[i]?.displayPath ?? input.displayPath})),
                model: {...existing.spec.model, fingerprint: model.fingerprint},
                // the labels file's name is not part of the run (runTaskIdentity): the run keeps its own
                ...(derived.task?.kind === "classify" && existing.spec.task?.kind === "classify"
                    ? {task: {...derived.task, settings: {...derived.task.settings, labelsFile: existing.spec.task.settings.labelsFile}}} : {}),
                shardAttempts: existing.spec.shardAttempts, retryDelayMs: existing.spec.retryDelayMs, maxPendingShards: existing.spec.maxPendingShards,
                // the run reads its inputs with the limit it was created with (schema-bounded), whatever this command says
                maxLineBytes: existing.spec.maxLineBytes,
                // a run made before numerics were recorded is computed with LEGACY_NUMERICS: this command may go on with it if it asks for those
                numerics: existing.spec.numerics === undefined && numericsDifference(derived.numerics as NumericsSettings, runNumericsOf(existing.spec)) === undefined
                    ? undefined : derived.numerics
            };
            const field = firstDifference(expected, existing.spec);
            if (field !== undefined)
                throw new OrchardError("RUN_RECORD_MISMATCH",
                    `run ${existing.spec.runId}'s record in Redis is refused: its ${field} differs from this command's; no file was touched (--overwrite starts a new run)`, {details: {field}});
            if (existing.state.status === "running" || existing.state.status === "incomplete") {
                log?.info({runId: existing.spec.runId}, `resuming run ${existing.spec.runId} (same command, not finished)`);
                await records.save(existing.spec);
                return execute({...stop, spec: existing.spec, scanned, fleet, store, options: resolved, resumed: true});
            }
            if (existing.state.status === "completed" && await outputsIntact(store, existing))
                return alreadyComplete(existing);
        }
        for (const output of allOutputs)
            if (!resolved.overwrite && await nonEmptyFile(output))
                throw new OrchardError("OUTPUT_MISMATCH", `${output} exists and is not the output of an unfinished run of this command; pass --overwrite to replace it, or choose another --output-dir`);
        await ensureOutputDirectory(resolved.outputDir, "--output-dir");
        const spec = buildSpec(resolved, scanned, model, outputs, specKey, newRunId(resolved.name), new Date().toISOString(), CURRENT_OUTPUT_NAMING);
        // recorded here first: a run in Redis that this machine has no record of is never coordinated here
        await records.save(spec);
        await store.createRun(spec);
        log?.info({runId: spec.runId, queue: spec.queueName, documents: scanned.reduce((sum, input) => sum + input.documents, 0)}, `created run ${spec.runId}`);
        return execute({...stop, spec, scanned, fleet, store, options: resolved, resumed: false});
    });
}

/** The spec of a run of this command: everything derived here (outputs from `outputPaths`), nothing read back. */
function buildSpec(resolved: ResolvedRunOptions, scanned: readonly ScannedInput[], model: ModelFingerprint, outputs: readonly string[], specKey: string, runId: string, createdAt: string, naming: OutputNaming): RunSpec {
    return {
        v: 1, runId, specKey, ...(resolved.name === undefined ? {} : {name: resolved.name}), createdAt,
        model: {path: resolve(resolved.modelPath), fingerprint: model.fingerprint, sizeBytes: model.sizeBytes, ...(model.name === undefined ? {} : {name: model.name})},
        engine: resolved.simulatedEngine === undefined ? {kind: "llama"} : {kind: "simulated", tokensPerSecond: resolved.simulatedEngine.tokensPerSecond},
        queueName: shardQueueName(model.fingerprint),
        inputs: scanned.map((input, i) => ({
            path: input.path, displayPath: input.displayPath, sha256: input.sha256, sizeBytes: input.sizeBytes, documents: input.documents,
            shards: input.shardStarts.length, output: outputs[i] as string
        })),
        outputDir: resolved.outputDir,
        // absent for "stem": the spec of a run made before the naming was recorded, as it was
        ...(naming === "stem" ? {} : {outputNaming: naming}),
        prompt: resolved.prompt, truncate: resolved.truncate, contextSize: resolved.contextSize, numerics: resolved.numerics,
        ...(resolved.requires === undefined ? {} : {requires: resolved.requires}),
        shardSize: resolved.shardSize, ...(resolved.shardTaper === undefined ? {} : {shardTaper: resolved.shardTaper}), shardAttempts: resolved.shardAttempts, retryDelayMs: resolved.retryDelayMs, maxPendingShards: resolved.maxPendingShards,
        maxLineBytes: resolved.maxLineBytes,
        // absent for the re-ask, as in every run before task kinds
        ...(resolved.task.kind === "reask" ? {} : {task: resolved.task})
    };
}

/** `orchard resume RUN`: goes on with an unfinished run (after a crash, Ctrl-C, or on another machine with the same files). */
export async function resumeRun(options: ResumeOptions): Promise<RunSummary> {
    const resolved = resolveFleetSessionOptions(options);
    const records = new LocalRunRecords(resolved.stateDir);
    return withFleet(resolved, async (fleet, store, stop) => {
        const run = await store.requireRun(options.runId);
        if (run.state.status === "cancelled") throw new OrchardError("RUN_CANCELLED", `run ${options.runId} was cancelled; start it again with orchard run`);
        const spec = await records.check(run.spec, options.outputDir);
        if (run.state.status === "completed") return alreadyComplete(run);
        const scanned = await checkFiles(spec, records);
        return RunSession.execute({...stop, spec, scanned, fleet, store, options: resolved, resumed: true});
    });
}

/** `orchard retry-failed RUN`: reruns the shards that failed for good and patches their documents into the outputs. */
export async function retryFailedRun(options: ResumeOptions & {readonly onNothingToRetry?: () => void}): Promise<RunSummary> {
    const resolved = resolveFleetSessionOptions(options);
    const records = new LocalRunRecords(resolved.stateDir);
    return withFleet(resolved, async (fleet, store, stop) => {
        const run = await store.requireRun(options.runId);
        const runId = run.spec.runId;
        if (run.state.status === "cancelled") throw new OrchardError("RUN_CANCELLED", `run ${runId} was cancelled; start it again with orchard run`);
        const layout = RunLayout.fromSpec(run.spec);
        if (run.state.status === "running" && run.state.cursorShard < layout.total)
            throw new OrchardError("INVALID_ARGUMENT", `run ${runId} has not finished its first pass yet: let it finish (orchard resume ${runId}), then retry what failed`);
        // every check before the run is changed: a refused run stays as it was
        const spec = await records.check(run.spec, options.outputDir);
        const scanned = await checkFiles(spec, records);
        const failures = await store.failures(runId);
        if (failures.size > 0) {
            const queue = new Queue(spec.queueName, {connection: fleet.client, prefix: store.keys.prefix});
            try {
                // the checked spec (this machine's record), equal to the one in Redis
                await requeueFailedShards({store, queue, layout: RunLayout.fromSpec(spec), shards: failedShardsToRetry(runId, failures, "all")});
            } finally {
                await queue.close();
            }
        } else if ((await store.retrying(runId)).length === 0) {
            options.onNothingToRetry?.();
        }
        return RunSession.execute({...stop, spec, scanned, fleet, store, options: resolved, resumed: true});
    });
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
    // the embedded Redis writes its data there: a file given as --state-dir is the user's to fix (exit 1), not a crash
    if (options.redisUrl === undefined) await assertOutputPath(options.stateDir, "folder", "--state-dir");
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

/**
 * Inputs of a checked run, validated again and checked to be the very files it started with (hash,
 * size, documents, shards), and its outputs checked not to be any of them; then the spec is
 * recorded as this machine's. No output is opened before this passes.
 */
async function checkFiles(spec: RunSpec, records: LocalRunRecords): Promise<ScannedInput[]> {
    const scanned: ScannedInput[] = [];
    for (const input of spec.inputs) {
        // the absolute path: a resume may run from another working directory
        const current = await scanInput(input.path, spec.prompt, spec.shardSize, spec.shardTaper, runMaxLineBytes(spec), runTaskOf(spec));
        if (current.sha256 !== input.sha256 || current.sizeBytes !== input.sizeBytes || current.documents !== input.documents || current.shardStarts.length !== input.shards)
            throw new OrchardError("INVALID_ARGUMENT", `${input.displayPath} changed since run ${spec.runId} started, so its outputs cannot be continued; start a new run (orchard run ... --overwrite)`);
        scanned.push({...current, displayPath: input.displayPath});
    }
    await assertOutputsAreNotInputs(scanned, allOutputPaths(spec));
    await records.save(spec);
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

