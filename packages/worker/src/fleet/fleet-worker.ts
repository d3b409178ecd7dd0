import {
    closeRedis, connectRedis, encodeShardJobFailure, FleetKeys, machineRefusal, modelFingerprint, OrchardError, settleWithin, shardJobSchema, toFailureCode, shardQueueName, simulatedEngineFingerprint,
    type Logger, type MachineFacts, type NumericsSettings, type ShardJob
} from "@orchard/shared";
import {DelayedError, UnrecoverableError, WaitingError, Worker, type Job} from "bullmq";
import PQueue from "p-queue";
import type {Redis} from "ioredis";
import {resolveFleetWorkerOptions, type FleetWorkerOptions, type ResolvedFleetWorkerOptions} from "./fleet-worker-options.ts";
import {EngineSwitch, numericsEngineOptions} from "./engine-switch.ts";
import {HeartbeatPublisher} from "./heartbeat-publisher.ts";
import type {ShardEngine} from "./shard-engine.ts";
import {writeWhileRunLive} from "./live-run-write.ts";
import {processShard} from "./shard-processor.ts";

/** Past the shutdown deadline and its grace, each remaining step of closing gets this long. */
const CLOSE_STEP_MS = 10_000;
/**
 * A shard this worker must leave alone (the run requires another machine, or numerics it cannot
 * compute) goes back to the queue delayed this long: a matching worker takes it meanwhile, and this
 * one does not spin on it. BullMQ cannot hand a worker only some of a queue's jobs.
 */
const REFUSED_SHARD_DELAY_MS = 2_000;
/** A refusal's reason is cut to this (the record's schema bound). */
const MAX_REASON_CHARS = 1_000;

/** What a worker did since it started. */
export interface FleetWorkerStats {
    readonly shards: number;
    readonly documents: number;
    readonly tokens: number;
}

/**
 * A member of the fleet: holds one model, consumes the BullMQ queue of that model's fingerprint
 * (so it can only ever take shards of runs made for its weights), writes each shard's attributes
 * to the run's results hash, and runs until closed. Closing finishes the current shard, or gives it
 * back to the queue when that takes longer than `shutdownTimeoutMs`.
 */
export class FleetWorker {
    public readonly name: string;
    /** The fingerprint of what this worker computes (the model's, or its simulated twin). */
    public readonly fingerprint: string;
    public readonly queueName: string;
    readonly #options: ResolvedFleetWorkerOptions;
    /** The engine, recreated with each run's numerics; unloaded while paused with unloadWhenPaused (the model's memory given back). */
    readonly #engines: EngineSwitch;
    /** Where this worker computes (the same whatever the numerics): provenance and --require-backend/--require-chip. */
    readonly #machine: MachineFacts;
    /** The reason this worker takes no shards now (spare-machine policy), or undefined. */
    #pausedReason: string | undefined;
    /** pause() and resume() one after the other, in the order called. */
    #pausing: Promise<void> = Promise.resolve();
    readonly #redis: Redis;
    readonly #keys: FleetKeys;
    readonly #log: Logger | undefined;
    #worker: Worker | undefined;
    #closing: Promise<void> | undefined;
    #stats = {shards: 0, documents: 0, tokens: 0};
    #heartbeat: HeartbeatPublisher | undefined;
    /** The documents of every shard held, in the order the shards arrived, onto the engine's contexts. */
    readonly #scheduler: PQueue;

    private constructor(init: {options: ResolvedFleetWorkerOptions; engine: ShardEngine; loadEngine: (numerics: NumericsSettings | undefined) => Promise<ShardEngine>; redis: Redis; fingerprint: string}) {
        this.#options = init.options;
        this.#engines = new EngineSwitch(init.loadEngine, init.engine);
        this.#machine = init.engine.machine;
        this.#pausedReason = init.options.pausedReason;
        this.#redis = init.redis;
        this.name = init.options.name;
        this.fingerprint = init.fingerprint;
        this.queueName = shardQueueName(init.fingerprint);
        this.#keys = new FleetKeys(init.options.keyPrefix);
        this.#log = init.options.logger?.child({component: "fleet-worker", worker: this.name});
        // the same contexts after an unload and reload: the engine is made from the same options
        this.#scheduler = new PQueue({concurrency: init.engine.contexts});
    }

    /** Fingerprints the model, loads the engine, connects, and starts taking shards. */
    public static async start(options: FleetWorkerOptions): Promise<FleetWorker> {
        const resolved = resolveFleetWorkerOptions(options);
        const real = await modelFingerprint(resolved.modelPath);
        const fingerprint = resolved.simulatedEngine === undefined ? real.fingerprint : simulatedEngineFingerprint(real).fingerprint;
        // the worker's own engine options, with a run's numerics over them when a run needs others
        const loadEngine = (numerics: NumericsSettings | undefined): Promise<ShardEngine> => resolved.createEngine({
            modelPath: resolved.modelPath, engine: numerics === undefined ? resolved.engine : {...resolved.engine, ...numericsEngineOptions(numerics)},
            simulatedEngine: resolved.simulatedEngine, logger: resolved.logger
        });
        const engine = await loadEngine(undefined);
        let redis: Redis;
        try {
            redis = await connectRedis(resolved.redisUrl, {name: `orchard-worker-${resolved.name}`, maxReconnectDelayMs: 2000, ...(resolved.logger === undefined ? {} : {logger: resolved.logger})});
        } catch (error) {
            await engine.close();
            throw error;
        }
        // monitoring (heartbeats, per-run counters) hears every shard event before the caller's handler
        const heartbeat = HeartbeatPublisher.start({
            redis, keyPrefix: resolved.keyPrefix, name: resolved.name, modelPath: resolved.modelPath, fingerprint, queueName: shardQueueName(fingerprint),
            concurrency: resolved.concurrency,
            // called at each beat, after `worker` below exists: the engine in use then (it may be reloaded)
            engine: {kind: engine.kind, backend: engine.backend ?? engine.kind, contexts: engine.contexts, prefixReuse: () => worker.#engines.engine?.prefixReuse},
            ...(resolved.logger === undefined ? {} : {logger: resolved.logger})
        });
        const onShard = resolved.onShard;
        const worker = new FleetWorker({options: {...resolved, onShard: (event) => (heartbeat.onShard(event), onShard(event))}, engine, loadEngine, redis, fingerprint});
        worker.#heartbeat = heartbeat;
        heartbeat.setPaused(resolved.pausedReason);
        worker.#run();
        if (resolved.pausedReason !== undefined && resolved.unloadWhenPaused) await worker.#unloadEngine();
        return worker;
    }

    public get stats(): FleetWorkerStats {
        return {...this.#stats};
    }

    /**
     * Stops taking shards and finishes the current ones; past `shutdownTimeoutMs` they are given
     * back to the queue (another worker takes them at once, no stall wait). Idempotent.
     */
    public close(): Promise<void> {
        this.#closing ??= this.#close();
        return this.#closing;
    }

    /** Why this worker takes no shards now (spare-machine policy), or undefined when it works. */
    public get pausedReason(): string | undefined {
        return this.#pausedReason;
    }

    /**
     * Stops taking shards (the spare-machine policy no longer allows work): the shards in hand are
     * finished, or given back to the queue past `shutdownTimeoutMs`, as on close; then the engine is
     * closed if `unloadWhenPaused`. Called again while paused, only the reason changes.
     */
    public pause(reason: string): Promise<void> {
        return this.#serially(async () => {
            const wasPaused = this.#pausedReason !== undefined;
            this.#pausedReason = reason;
            this.#heartbeat?.setPaused(reason);
            if (wasPaused || this.#closing !== undefined) return;
            this.#log?.info({reason}, "pausing: finishing the shards in hand, taking no more");
            const worker = this.#worker;
            if (worker !== undefined) {
                const returnTimer = setTimeout(() => {
                    this.#log?.info("pause deadline reached: giving the current shards back to the queue");
                    worker.cancelAllJobs("worker pausing");
                }, this.#options.shutdownTimeoutMs);
                try {
                    await worker.pause();
                } finally {
                    clearTimeout(returnTimer);
                }
            }
            if (this.#options.unloadWhenPaused) await this.#unloadEngine();
            this.#log?.info({reason}, "paused");
        });
    }

    /** Takes shards again (loading the engine first if it was unloaded). */
    public resume(): Promise<void> {
        return this.#serially(async () => {
            if (this.#pausedReason === undefined || this.#closing !== undefined) return;
            await this.#engines.reload();
            if (this.#closing !== undefined) return;
            this.#pausedReason = undefined;
            this.#heartbeat?.setPaused(undefined);
            // BullMQ's resume() also starts a worker that started paused and never ran
            await this.#worker?.resume();
            this.#log?.info("resumed: taking shards");
        });
    }

    #serially(step: () => Promise<void>): Promise<void> {
        const next = this.#pausing.then(step);
        // a failed step (the model no longer loads) is the caller's to report; the next one still runs
        this.#pausing = next.catch(() => undefined);
        return next;
    }

    async #unloadEngine(): Promise<void> {
        await this.#engines.unload();
        this.#log?.info("model unloaded while paused");
    }

    /** Gives the current shards back to the queue now instead of finishing them (a second Ctrl-C). */
    public returnShards(): void {
        this.#worker?.cancelAllJobs("worker stopping");
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    #run(): void {
        const options = this.#options;
        // three parameters: BullMQ passes an AbortSignal only to processors that declare it
        const processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => this.#process(job, token, signal);
        this.#worker = new Worker(this.queueName, processor, {
            connection: this.#redis,
            prefix: options.keyPrefix,
            name: this.name,
            concurrency: options.concurrency,
            lockDuration: options.lockDurationMs,
            stalledInterval: options.stalledIntervalMs,
            maxStalledCount: options.maxStalledCount,
            // a worker that starts paused must not fetch a first shard before it pauses
            autorun: false
        });
        this.#worker.on("error", (error) => this.#log?.warn({err: error.message}, "BullMQ worker error"));
        if (this.#pausedReason === undefined) this.#startTaking();
        else this.#log?.info({reason: this.#pausedReason}, "starting paused");
        this.#log?.info({queue: this.queueName, engine: this.#engines.engine?.kind, concurrency: options.concurrency, lockDurationMs: options.lockDurationMs}, "worker ready: waiting for shards");
    }

    #startTaking(): void {
        const worker = this.#worker;
        worker?.run().catch((error: unknown) => worker.emit("error", error as Error));
    }

    async #process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<{documents: number; tokens: number} | {skipped: string}> {
        const parsed = shardJobSchema.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(encodeShardJobFailure({code: "INTERNAL", message: `invalid shard payload: ${parsed.error.message}`}));
        const shard: ShardJob = parsed.data;
        const jobId = job.id ?? "?";
        const log = this.#log?.child({runId: shard.runId, shard: shard.shard, jobId});
        if (!await this.#runIsLive(shard.runId)) {
            log?.info("skipping a shard of a run that is not running (cancelled, finished or unknown)");
            return {skipped: "run cancelled"};
        }
        if (this.#pausedReason !== undefined) {
            // fetched as the worker paused: back to the wait list untouched, for a worker that may work now
            await job.moveToWait(token);
            log?.info({reason: this.#pausedReason}, "shard handed back: this worker is paused");
            throw new WaitingError();
        }
        const misfit = machineRefusal(shard.requires, this.#machine);
        if (misfit !== undefined) return this.#refuse(job, token, shard, misfit, log);
        // the Mac stays awake while a shard runs (caffeinate -i on macOS), not while the worker waits for one
        const wake = this.#options.wakeLock.hold();
        try {
            return await this.#computeHeld(job, token, signal, shard, log);
        } finally {
            wake();
        }
    }

    /** The shard on an engine with the run's numerics (recreated if need be), or left to other workers. */
    async #computeHeld(job: Job, token: string | undefined, signal: AbortSignal | undefined, shard: ShardJob, log: Logger | undefined): Promise<{documents: number; tokens: number} | {skipped: string}> {
        const jobId = job.id ?? "?";
        let lease;
        try {
            lease = await this.#engines.acquire(shard.numerics);
        } catch (error) {
            // another machine may load it (this one may lack the memory now): a failed attempt, retried
            throw this.#failed(new OrchardError("ENGINE_FAILED", `loading the engine with the run's numerics failed: ${(error as Error).message ?? String(error)}`, {cause: error, retryable: true}),
                shard, jobId, log);
        }
        if (lease.kind === "refused") return this.#refuse(job, token, shard, lease.reason, log);
        try {
            return await this.#compute(job, token, signal, shard, lease.engine, log);
        } finally {
            lease.release();
        }
    }

    /** The error a failed attempt throws to BullMQ (retried unless the failure says it must not be). */
    #failed(error: unknown, shard: ShardJob, jobId: string, log: Logger | undefined): Error {
        const orchard = error instanceof OrchardError ? error : new OrchardError("ENGINE_FAILED", (error as Error).message ?? String(error), {cause: error, retryable: true});
        log?.warn({code: orchard.code, err: orchard.message}, "shard failed");
        this.#options.onShard({type: "failed", jobId, runId: shard.runId, shard: shard.shard, error: orchard.message});
        // BullMQ keeps only the message: it carries the failure as JSON, which the coordinator
        // parses back (readShardJobFailure) and reports with the missing documents
        const message = encodeShardJobFailure({code: toFailureCode(orchard.code), message: orchard.message});
        return orchard.retryable ? new Error(message) : new UnrecoverableError(message);
    }

    /**
     * Leaves a shard to other workers: back to the queue after a short delay, with the reason recorded
     * for the run (`orchard status` shows why the run waits).
     */
    async #refuse(job: Job, token: string | undefined, shard: ShardJob, reason: string, log: Logger | undefined): Promise<never> {
        log?.info({reason}, "shard left to other workers");
        // only into a running run: a refusal written after the run ended would stay in Redis for good
        await writeWhileRunLive(this.#redis, {
            runKey: this.#keys.run(shard.runId), hashKey: this.#keys.refusals(shard.runId), field: this.name,
            value: JSON.stringify({reason: reason.slice(0, MAX_REASON_CHARS), atMs: Date.now()})
        });
        await job.moveToDelayed(Date.now() + REFUSED_SHARD_DELAY_MS, token);
        throw new DelayedError();
    }

    async #compute(job: Job, token: string | undefined, signal: AbortSignal | undefined, shard: ShardJob, engine: ShardEngine, log: Logger | undefined): Promise<{documents: number; tokens: number} | {skipped: string}> {
        const jobId = job.id ?? "?";
        log?.info({documents: shard.documents.length, attempt: job.attemptsMade + 1}, "shard started");
        this.#options.onShard({type: "started", jobId, runId: shard.runId, shard: shard.shard, documents: shard.documents.length});
        let outcome;
        try {
            outcome = await processShard(shard, engine, {worker: this.name, scheduler: this.#scheduler, ...(signal === undefined ? {} : {signal})});
        } catch (error) {
            throw this.#failed(error, shard, jobId, log);
        }
        if (outcome.kind === "aborted") {
            // back to the wait list now: another worker takes it without waiting for the lock to expire
            await job.moveToWait(token);
            log?.info({documentsDone: outcome.documentsDone}, "shard returned to the queue (worker stopping)");
            this.#options.onShard({type: "returned", jobId, runId: shard.runId, shard: shard.shard});
            throw new WaitingError();
        }
        // idempotent: a shard processed twice (a lock lost mid-shard) writes the same bytes. Checked and
        // written in one step: a run cancelled or finished meanwhile gets nothing (see live-run-write.ts)
        const written = await writeWhileRunLive(this.#redis, {
            runKey: this.#keys.run(shard.runId), hashKey: this.#keys.results(shard.runId), field: String(shard.shard),
            value: JSON.stringify(outcome.result), channel: this.#keys.resultsChannel(shard.runId)
        });
        if (!written) {
            log?.info("shard result dropped: the run is no longer running (cancelled or finished)");
            return {skipped: "run cancelled"};
        }
        const documents = outcome.result.documents.length;
        this.#stats = {shards: this.#stats.shards + 1, documents: this.#stats.documents + documents, tokens: this.#stats.tokens + outcome.result.tokens};
        log?.info({documents, tokens: outcome.result.tokens, ms: Math.round(outcome.result.elapsedMs)}, "shard done");
        this.#options.onShard({type: "completed", jobId, runId: shard.runId, shard: shard.shard, documents, tokens: outcome.result.tokens, elapsedMs: outcome.result.elapsedMs});
        return {documents, tokens: outcome.result.tokens};
    }

    /**
     * Whether the run still wants results: not cancelled, not finished (a worker that was frozen past
     * its lock must not write into a run that already ended: nobody would ever read or delete it).
     */
    async #runIsLive(runId: string): Promise<boolean> {
        return await this.#redis.hget(this.#keys.run(runId), "status") === "running";
    }

    async #close(): Promise<void> {
        this.#heartbeat?.markStopping();
        const worker = this.#worker;
        const {shutdownTimeoutMs, shutdownGraceMs} = this.#options;
        if (worker !== undefined) {
            // BullMQ's close() waits for active shards without a deadline: give it one, then hand the shards back
            const returnTimer = setTimeout(() => {
                this.#log?.info("shutdown deadline reached: giving the current shard back to the queue");
                worker.cancelAllJobs("worker stopping");
            }, shutdownTimeoutMs);
            try {
                // BullMQ's close() cannot be forced once started: stop waiting instead (the shard's lock then expires)
                if (!await settleWithin(worker.close(), shutdownTimeoutMs + shutdownGraceMs)) {
                    // what it waits for is a Redis reply that is not coming (Redis stopped, the network cut:
                    // a dead TCP connection takes ~15 minutes to fail by itself). Dropping the connections
                    // fails the pending commands now; the shard's lock expires and another worker takes it
                    this.#log?.warn("the current shard did not end in time (Redis unreachable?); dropping the connections, the shard goes to another worker when its lock expires");
                    this.#redis.disconnect();
                    void worker.disconnect().catch(() => undefined);
                }
            } finally {
                clearTimeout(returnTimer);
            }
        }
        // each step bounded: none of them may hold the process past its stop (a service manager then kills it)
        // a pause or resume in progress ends first: it may be loading or unloading the engine
        await settleWithin(this.#pausing, CLOSE_STEP_MS);
        // bounded by itself (its last beat waits a second at most)
        await this.#heartbeat?.close();
        this.#options.wakeLock.close();
        await settleWithin(this.#engines.unload(), CLOSE_STEP_MS);
        await closeRedis(this.#redis, CLOSE_STEP_MS);
        this.#log?.info(this.#stats, "worker stopped");
    }
}

/** Starts a fleet worker (the in-process API benchmarks and tests use; `orchard worker` wraps it). */
export function startFleetWorker(options: FleetWorkerOptions): Promise<FleetWorker> {
    return FleetWorker.start(options);
}
