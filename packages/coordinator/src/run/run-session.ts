import {stat} from "node:fs/promises";
import {
    EVENTS_STREAM_MAX_LENGTH, outputPathError, readJsonlLines, runNumericsOf, runTaskOf, taskKind, type Logger, type RunSpec, type RunTask,
    type ShardFailure, type ShardProvenance, type ShardResult, type SkippedDocument, type TaskKind
} from "@orchard/shared";
import {FleetAdvertiser} from "@orchard/shared";
import {Queue} from "bullmq";
import type {FleetRedis} from "../redis/fleet-redis.ts";
import type {CoordinatorEvent, RunSummary} from "./coordinator-events.ts";
import {CoordinatorLock} from "./coordinator-lock.ts";
import type {ResolvedFleetSessionOptions} from "./coordinator-options.ts";
import type {ScannedInput} from "./input-scanner.ts";
import {localWorkerArgs} from "./local-worker-args.ts";
import {LocalWorkerPool} from "./local-worker-pool.ts";
import {listMissingDocuments} from "./missing-documents.ts";
import {OrderedMerger} from "./ordered-merger.ts";
import {MergeRate} from "./merge-rate.ts";
import {patchOutput} from "./output-patcher.ts";
import {specCompanionOutputPaths} from "./run-outputs.ts";
import {RejectedResults} from "./rejected-results.ts";
import {ResultWakeup} from "./result-wakeup.ts";
import {runAdvertisement} from "./run-advertisement.ts";
import {RunLayout} from "./run-layout.ts";
import type {RunStore} from "./run-store.ts";
import {ShardEnqueuer} from "./shard-enqueuer.ts";
import {ShardJobWatch} from "./shard-job-watch.ts";
import {ShardResults, type AnsweredShard} from "./shard-results.ts";

/** Shards merged per durable step at most (one fsync and one Redis transaction each). */
const MAX_SHARDS_PER_STEP = 64;
const STATUS_CHECK_MS = 1000;
const PROGRESS_MS = 1000;
const WORKER_COUNT_MS = 5000;

export interface RunSessionInit {
    readonly spec: RunSpec;
    readonly scanned: readonly ScannedInput[];
    readonly fleet: FleetRedis;
    readonly store: RunStore;
    readonly options: ResolvedFleetSessionOptions;
    readonly resumed: boolean;
    /** Aborted on a signal or on a fatal condition (embedded Redis gone for good, lock lost). */
    readonly stop: AbortSignal;
    /** Why `stop` was aborted when it was not the user's signal. */
    readonly fatal: () => Error | undefined;
    readonly onFatal: (error: Error) => void;
}

/**
 * One coordinator's time with a run: holds the run's lock, feeds its shards to the queue, merges
 * results into the outputs in input order, patches retried shards in, and records the outcome.
 * Everything it needs to go on is in Redis and the outputs, so any session can pick up where a
 * killed one stopped.
 */
export class RunSession {
    readonly #spec: RunSpec;
    readonly #fleet: FleetRedis;
    readonly #store: RunStore;
    readonly #options: ResolvedFleetSessionOptions;
    readonly #layout: RunLayout;
    /** What the run computes per document, and how its results become output lines. */
    readonly #task: RunTask;
    readonly #kind: TaskKind;
    readonly #log: Logger | undefined;
    readonly #init: RunSessionInit;
    #cursor = 0;
    #merged = 0;
    #missing = 0;
    #reconcileNeeded = false;
    /** The poll sleep, ended early by a worker's announced result. */
    readonly #wakeup: ResultWakeup;
    readonly #rate = new MergeRate();
    /** Rejected results per shard: a rejected result is a failed attempt. */
    readonly #rejected: RejectedResults;
    /** The results workers wrote, as this coordinator accepts them. */
    readonly #results: ShardResults;

    private constructor(init: RunSessionInit) {
        this.#init = init;
        this.#spec = init.spec;
        this.#fleet = init.fleet;
        this.#store = init.store;
        this.#options = init.options;
        this.#layout = RunLayout.fromScan(init.spec, init.scanned);
        this.#task = runTaskOf(init.spec);
        this.#kind = taskKind(this.#task.kind);
        this.#log = init.options.logger?.child({component: "coordinator", runId: init.spec.runId});
        this.#rejected = new RejectedResults(init.spec.shardAttempts, this.#log);
        this.#wakeup = new ResultWakeup(init.stop, this.#log);
        this.#results = new ShardResults({store: init.store, layout: this.#layout, task: this.#task, kind: this.#kind, rejected: this.#rejected});
    }

    public static async execute(init: RunSessionInit): Promise<RunSummary> {
        return new RunSession(init).#execute();
    }

    async #execute(): Promise<RunSummary> {
        const started = performance.now();
        const spec = this.#spec;
        const runId = spec.runId;
        await using lock = await CoordinatorLock.acquire(this.#fleet.client, this.#store.keys.lock(runId), runId, {
            ...(this.#log === undefined ? {} : {logger: this.#log}), onLost: (error) => this.#init.onFatal(error)
        });
        const queue = new Queue(spec.queueName, {
            connection: this.#fleet.client, prefix: this.#store.keys.prefix, streams: {events: {maxLen: EVENTS_STREAM_MAX_LENGTH}}
        });
        // BullMQ reports connection trouble as events: the shared client's own handler already logs it
        queue.on("error", (error) => this.#log?.debug({err: error}, "queue error"));
        await this.#wakeup.listen(this.#fleet.client, this.#store.keys.resultsChannel(runId));
        const onReady = () => (this.#reconcileNeeded = true);
        this.#fleet.client.on("ready", onReady);
        let workers: LocalWorkerPool | undefined;
        try {
            const state = (await this.#store.requireRun(runId)).state;
            this.#cursor = state.cursorShard;
            this.#merged = state.mergedDocuments;
            const failures = await this.#store.failures(runId, (error) => this.#log?.error({err: error.message}, "a failure record is unreadable; its shard stays failed"));
            this.#missing = [...failures.keys()].reduce((sum, shard) => sum + this.#layout.shard(shard).documents, 0) + (await this.#store.skippedDocuments(runId)).length;
            const enqueuer = new ShardEnqueuer({queue, layout: this.#layout, store: this.#store, ...(this.#log === undefined ? {} : {logger: this.#log})});
            const watch = new ShardJobWatch(queue, enqueuer, this.#store, runId, this.#log);
            workers = this.#startLocalWorkers();
            await using advertiser = await this.#advertise();
            this.#emit({
                type: "started", runId, resumed: this.#init.resumed, redisUrl: this.#fleet.url, joinUrl: this.#fleet.publicUrl, advertisedAs: advertiser?.name, embeddedRedis: this.#fleet.embedded !== undefined,
                queueName: spec.queueName, totalDocuments: this.#totalDocuments, mergedDocuments: this.#merged, localWorkers: workers?.pids.length ?? 0,
                localWorkerNames: workers?.names ?? []
            });
            const companions = specCompanionOutputPaths(spec);
            await using merger = await OrderedMerger.open(this.#layout.plan, spec.inputs.map((input) => input.output), {shard: this.#cursor, bytes: state.cursorBytes}, companions)
                .catch((error: unknown) => {
                    throw outputPathError(error, (error as NodeJS.ErrnoException).path ?? spec.outputDir, "--output-dir");
                });
            const outcome = await this.#mainLoop(enqueuer, merger, watch, queue);
            if (outcome === "done") {
                const retrying = await this.#store.retrying(runId);
                const patched = retrying.length === 0 ? "done" : await this.#patch(retrying, enqueuer, watch);
                if (patched === "done") {
                    const released = await watch.releaseMerged(new Set((await this.#store.failures(runId)).keys()));
                    if (released > 0) this.#log?.info({released}, "removed the failed jobs of shards merged after all");
                    return await this.#finish(started);
                }
                return this.#summary(patched, started);
            }
            return this.#summary(outcome, started);
        } finally {
            this.#fleet.client.off("ready", onReady);
            await workers?.stop();
            await queue.close().catch(() => undefined);
            this.#wakeup.close();
            await lock.release();
        }
    }

    /** Merges until every shard is in (or recorded missing), or the session must stop. */
    async #mainLoop(enqueuer: ShardEnqueuer, merger: OrderedMerger, watch: ShardJobWatch, queue: Queue): Promise<"done" | "interrupted" | "cancelled"> {
        let lastStatus = 0;
        let lastProgress = 0;
        let lastReconcile = performance.now();
        let lastWorkerCount = 0;
        let workersSeen: number | undefined;
        while (this.#cursor < this.#layout.total) {
            const stopped = this.#stopped();
            if (stopped !== undefined) return stopped;
            const now = performance.now();
            if (now - lastStatus >= STATUS_CHECK_MS) {
                lastStatus = now;
                if (await this.#store.status(this.#spec.runId) === "cancelled") return "cancelled";
            }
            if (this.#reconcileNeeded || now - lastReconcile >= this.#options.reconcileIntervalMs) {
                this.#reconcileNeeded = false;
                lastReconcile = now;
                const added = await enqueuer.reconcile(this.#cursor);
                if (added > 0) this.#log?.info({added}, "re-enqueued shards missing from the queue");
            } else
                await enqueuer.fill(this.#cursor);
            const progressed = await this.#mergeStep(merger, watch);
            if (now - lastWorkerCount >= WORKER_COUNT_MS) {
                lastWorkerCount = now;
                workersSeen = await queue.getWorkersCount().catch(() => undefined);
            }
            if (now - lastProgress >= PROGRESS_MS) {
                lastProgress = now;
                this.#emitProgress(workersSeen);
            }
            if (!progressed) await this.#wakeup.sleep(this.#options.pollIntervalMs);
        }
        this.#emitProgress(workersSeen);
        return "done";
    }

    /** Merges the results waiting at the cursor (or records the cursor shard failed): one fsync, one transaction. */
    async #mergeStep(merger: OrderedMerger, watch: ShardJobWatch): Promise<boolean> {
        const runId = this.#spec.runId;
        const count = Math.min(this.#layout.total - this.#cursor, MAX_SHARDS_PER_STEP);
        const shards = Array.from({length: count}, (_, i) => this.#cursor + i);
        const ready: ({failure?: undefined} & AnsweredShard | {shard: number; failure: ShardFailure})[] = await this.#results.answeredFrom(shards);
        if (ready.length === 0) {
            const failure = this.#rejected.failure(this.#cursor) ?? await watch.check(this.#cursor);
            if (failure === undefined) return false;
            ready.push({shard: this.#cursor, failure});
        }
        const mergedShards: number[] = [];
        const failures = new Map<number, ShardFailure>();
        const skipped: SkippedDocument[] = [];
        const provenance = new Map<number, ShardProvenance>();
        let merged = this.#merged;
        for (const item of ready) {
            const planned = this.#layout.shard(item.shard);
            if (item.failure !== undefined) {
                await merger.skip(planned);
                failures.set(item.shard, item.failure);
                this.#log?.warn({shard: item.shard, reason: item.failure.message}, `shard failed for good; its ${planned.documents} documents are left out`);
                continue;
            }
            const {lines, companions} = this.#results.outputLinesOf(item, skipped);
            await merger.append(planned, lines, companions);
            merged += lines.length;
            mergedShards.push(item.shard);
            provenance.set(item.shard, provenanceOf(item.result, planned));
        }
        const cursor = await merger.flush();
        // the cursor moves only after the lines are on disk: a crash in between rewrites them, once
        await this.#store.commitMerge(runId, {cursorShard: cursor.shard, cursorBytes: cursor.bytes, mergedDocuments: merged, mergedShards, failures, skipped, provenance});
        this.#missing += skipped.length + [...failures.keys()].reduce((sum, shard) => sum + this.#layout.shard(shard).documents, 0);
        this.#merged = merged;
        this.#cursor = cursor.shard;
        this.#rate.record(merged);
        return true;
    }

    /** `retry-failed`: reruns the shards in the retry set, then patches their documents into the outputs. */
    async #patch(shards: readonly number[], enqueuer: ShardEnqueuer, watch: ShardJobWatch): Promise<"done" | "interrupted" | "cancelled"> {
        const runId = this.#spec.runId;
        this.#emit({type: "patching", runId, shards: shards.length});
        this.#log?.info({shards: shards.length}, "rerunning failed shards");
        // a retry gives each shard its attempts afresh, whatever it used in this session's first pass
        this.#rejected.forget(shards);
        await enqueuer.add(shards);
        const pending = new Set(shards);
        const failedAgain = new Map<number, ShardFailure>();
        // patched from what was checked, not read again: a worker could have replaced it since
        const accepted = new Map<number, ShardResult>();
        let lastStatus = 0;
        while (pending.size > 0) {
            const stopped = this.#stopped();
            if (stopped !== undefined) return stopped;
            if (performance.now() - lastStatus >= STATUS_CHECK_MS) {
                lastStatus = performance.now();
                if (await this.#store.status(runId) === "cancelled") return "cancelled";
            }
            const list = [...pending];
            const present = await this.#store.haveResults(runId, list);
            for (const [i, shard] of list.entries()) {
                // a result is checked before it is patched in: an invalid one counts as a failed attempt, as in the first pass
                const result = present[i] === true ? await this.#results.accepted(shard) : undefined;
                if (result !== undefined) {
                    accepted.set(shard, result);
                    pending.delete(shard);
                    continue;
                }
                const failure = this.#rejected.failure(shard) ?? await watch.check(shard);
                if (failure !== undefined) {
                    pending.delete(shard);
                    failedAgain.set(shard, failure);
                }
            }
            if (pending.size > 0) await this.#wakeup.sleep(this.#options.pollIntervalMs);
        }
        const patched = shards.filter((shard) => !failedAgain.has(shard));
        const skipped: SkippedDocument[] = [];
        let merged = this.#merged;
        const companions = specCompanionOutputPaths(this.#spec);
        for (const [input, spec] of this.#spec.inputs.entries()) {
            const patchShards = new Set(patched.filter((shard) => this.#layout.shard(shard).input === input));
            if (patchShards.size === 0) continue;
            // companions first: a crash in between leaves the main output without the patched documents, and patching again is harmless
            for (const [k, companion] of (this.#kind.companionOutputs ?? []).entries())
                await patchOutput({
                    plan: this.#layout.plan, task: this.#task, companion, input, inputPath: spec.path, displayPath: spec.displayPath, outputPath: (companions[input] as string[])[k] as string,
                    settings: this.#spec.prompt, maxLineBytes: this.#layout.maxLineBytes, patchShards, resultOf: async (shard) => accepted.get(shard)
                });
            const before = await countLines(spec.output, this.#kind.maxOutputLineBytes(this.#layout.maxLineBytes, this.#spec.prompt, this.#task.settings));
            const outcome = await patchOutput({
                plan: this.#layout.plan, task: this.#task, input, inputPath: spec.path, displayPath: spec.displayPath, outputPath: spec.output, settings: this.#spec.prompt,
                maxLineBytes: this.#layout.maxLineBytes, patchShards, resultOf: async (shard) => accepted.get(shard)
            });
            skipped.push(...outcome.skipped);
            merged += outcome.lines - before;
        }
        await this.#store.commitPatch(runId, {
            patched, failedAgain, skipped, mergedDocuments: merged, provenance: new Map(patched.map((shard) => [shard, provenanceOf(accepted.get(shard) as ShardResult, this.#layout.shard(shard))]))
        });
        this.#merged = merged;
        return "done";
    }

    async #finish(started: number): Promise<RunSummary> {
        const runId = this.#spec.runId;
        const failures = await this.#store.failures(runId);
        const skipped = await this.#store.skippedDocuments(runId);
        const status = failures.size === 0 && skipped.length === 0 ? "completed" : "incomplete";
        const sizes = await Promise.all(this.#spec.inputs.map(async (input) => (await stat(input.output)).size));
        await this.#store.finish(runId, status, sizes);
        const missing = await listMissingDocuments(this.#layout, failures, skipped);
        this.#log?.info({status, merged: this.#merged, missing: missing.count}, "run finished");
        return {...this.#summary(status, started), missingDocuments: missing.count, missing: missing.listed};
    }

    #summary(status: RunSummary["status"], started: number): RunSummary {
        return {
            runId: this.#spec.runId, status, alreadyComplete: false, resumed: this.#init.resumed,
            totalDocuments: this.#totalDocuments, mergedDocuments: this.#merged, missingDocuments: this.#missing, missing: [],
            outputs: this.#spec.inputs.map((input) => input.output), seconds: (performance.now() - started) / 1000
        };
    }

    /** Advertises this coordinator on the LAN while the session runs (options.advertise), else undefined. */
    async #advertise(): Promise<FleetAdvertiser | undefined> {
        const redis = this.#options.advertise;
        if (redis === undefined) return undefined;
        return FleetAdvertiser.start({
            advertisement: runAdvertisement(redis, {embeddedPort: this.#fleet.embedded?.port, keyPrefix: this.#store.keys.prefix, runIds: [this.#spec.runId]}),
            logger: this.#log
        });
    }

    #startLocalWorkers(): LocalWorkerPool | undefined {
        const options = this.#options;
        if (options.localWorkers === 0) return undefined;
        const spec = this.#spec;
        return new LocalWorkerPool({
            count: options.localWorkers,
            command: options.localWorkerCommand,
            args: [
                "--model", spec.model.path, "--redis-prefix", this.#store.keys.prefix, "--exit-with-parent",
                ...(spec.engine.kind === "simulated" ? ["--simulate-tokens-per-second", String(spec.engine.tokensPerSecond)] : []),
                ...localWorkerArgs(options.localWorkerArgs, runNumericsOf(spec))
            ],
            // the URL holds the password: in the environment, which other users cannot read, not on argv, which `ps` shows them
            env: {ORCHARD_REDIS_URL: this.#fleet.url},
            namePrefix: `${spec.runId}-local`,
            ...(options.logger === undefined ? {} : {logger: options.logger})
        });
    }

    get #totalDocuments(): number {
        return this.#spec.inputs.reduce((sum, input) => sum + input.documents, 0);
    }

    #stopped(): "interrupted" | undefined {
        if (!this.#init.stop.aborted) return undefined;
        const fatal = this.#init.fatal();
        if (fatal !== undefined) throw fatal;
        return "interrupted";
    }

    #emitProgress(workers: number | undefined): void {
        this.#emit({type: "progress", runId: this.#spec.runId, merged: this.#merged, missing: this.#missing, total: this.#totalDocuments, workers, documentsPerSecond: this.#rate.perSecond()});
    }

    #emit(event: CoordinatorEvent): void {
        try {
            this.#options.onEvent(event);
        } catch (error) {
            this.#log?.warn({err: error}, "an event handler threw");
        }
    }
}

/** The per-shard record of where a result was computed (the worker's own word: the result passed its schema). */
function provenanceOf(result: ShardResult, shard: {input: number; firstDocument: number; documents: number}): ShardProvenance {
    return {worker: result.worker, ...(result.machine === undefined ? {} : {machine: result.machine}), input: shard.input, firstDocument: shard.firstDocument, documents: shard.documents};
}

async function countLines(path: string, maxLineBytes: number): Promise<number> {
    let lines = 0;
    for await (const line of readJsonlLines(path, {maxLineBytes})) if (line.text !== "") lines++;
    return lines;
}
