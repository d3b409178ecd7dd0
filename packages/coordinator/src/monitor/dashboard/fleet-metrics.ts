import type {FleetStatus} from "@orchard/shared";
import {Counter, Gauge, Registry} from "prom-client";

/** Runs exported on /metrics: the most recent ones (running or not). */
export const METRICS_RUN_LIMIT = 10;

/**
 * The fleet in Prometheus' text format, refreshed from a status snapshot at every scrape. Names
 * (all `orchard_`, documented in the README): per run, documents by state, progress, rates, ETA,
 * failed shards, active workers; per run and worker, documents/tokens/failures counters; per
 * queue, jobs by state; per worker, liveness, rates, heartbeat age, memory.
 */
export class FleetMetrics {
    public readonly registry = new Registry();
    readonly #runInfo: Gauge;
    readonly #runDocuments: Gauge;
    readonly #runProgress: Gauge;
    readonly #runTokensRate: Gauge;
    readonly #runDocumentsRate: Gauge;
    readonly #runEta: Gauge;
    readonly #runFailedShards: Gauge;
    readonly #runActiveWorkers: Gauge;
    readonly #documents: Counter;
    readonly #tokens: Counter;
    readonly #failures: Counter;
    readonly #queueJobs: Gauge;
    readonly #workerUp: Gauge;
    readonly #workerTokensRate: Gauge;
    readonly #workerEngineRate: Gauge;
    readonly #workerHeartbeatAge: Gauge;
    readonly #runRefused: Gauge;
    readonly #workerShards: Gauge;
    readonly #workerPaused: Gauge;
    readonly #workerMemory: Gauge;
    #last: Promise<unknown> = Promise.resolve();

    public constructor() {
        const registers = [this.registry];
        const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({name, help, labelNames, registers});
        const counter = (name: string, help: string, labelNames: string[]) => new Counter({name, help, labelNames, registers});
        this.#runInfo = gauge("orchard_run_info", "A run (always 1), with its status, queue, model and task kind as labels", ["run", "name", "status", "queue", "model", "task"]);
        this.#runRefused = gauge("orchard_run_refused_documents", "Documents of a run refused by the workers, by code (a generate run's GENERATION_TRUNCATED, JSON_INVALID...)", ["run", "code"]);
        this.#runDocuments = gauge("orchard_run_documents", "Documents of a run by state: total, merged, missing, retrying, remaining", ["run", "state"]);
        this.#runProgress = gauge("orchard_run_progress_ratio", "Documents merged or given up on, over the total (0 to 1)", ["run"]);
        this.#runTokensRate = gauge("orchard_run_tokens_per_second", "Prompt tokens per second of all workers over the last minute", ["run"]);
        this.#runDocumentsRate = gauge("orchard_run_documents_per_second", "Documents per second of all workers over the last minute", ["run"]);
        this.#runEta = gauge("orchard_run_eta_seconds", "Estimated seconds until a running run is done (absent when unknown)", ["run"]);
        this.#runFailedShards = gauge("orchard_run_failed_shards", "Shards of a run that failed for good (not yet retried)", ["run"]);
        this.#runActiveWorkers = gauge("orchard_run_active_workers", "Workers alive on a run's queue", ["run"]);
        this.#documents = counter("orchard_documents_processed_total", "Documents a worker computed for a run", ["run", "worker"]);
        this.#tokens = counter("orchard_tokens_processed_total", "Prompt tokens a worker computed for a run", ["run", "worker"]);
        this.#failures = counter("orchard_shard_failures_total", "Shard attempts of a run that threw on a worker", ["run", "worker"]);
        this.#queueJobs = gauge("orchard_queue_jobs", "Jobs of a shard queue by state: waiting, active, delayed, prioritized, failed", ["queue", "state"]);
        this.#workerUp = gauge("orchard_worker_up", "1 while a worker beats (busy or idle), 0 when lost or stopped", ["worker", "host", "backend", "state"]);
        this.#workerTokensRate = gauge("orchard_worker_tokens_per_second", "A worker's prompt tokens per second over the last minute, idle time included", ["worker", "host"]);
        this.#workerEngineRate = gauge("orchard_worker_engine_tokens_per_second", "A worker's tokens per second of busy time over its last shards", ["worker", "host"]);
        this.#workerHeartbeatAge = gauge("orchard_worker_heartbeat_age_seconds", "Seconds since a worker's last heartbeat", ["worker"]);
        this.#workerShards = gauge("orchard_worker_current_shards", "Shards a worker is processing", ["worker"]);
        this.#workerPaused = gauge("orchard_worker_paused", "1 while a worker takes no shards because its spare-machine policy says so (reason: user active, outside HH:MM-HH:MM, on battery...)", ["worker", "reason"]);
        this.#workerMemory = gauge("orchard_worker_memory_bytes", "A worker machine's memory: total, free, and the worker process' resident size (rss)", ["worker", "kind"]);
    }

    public get contentType(): string {
        return this.registry.contentType;
    }

    /** Prometheus text for a snapshot (scrapes are serialized: each resets and refills the same metrics). */
    public render(status: FleetStatus): Promise<string> {
        const rendered = this.#last.then(() => this.#render(status));
        this.#last = rendered.catch(() => undefined);
        return rendered;
    }

    async #render(status: FleetStatus): Promise<string> {
        this.registry.resetMetrics();
        const queues = new Map<string, FleetStatus["runs"][number]["queue"]>();
        for (const run of status.runs) {
            const id = run.runId;
            this.#runInfo.set({run: id, name: run.name ?? "", status: run.status, queue: run.queue.name, model: run.model.file, task: run.task ?? "reask"}, 1);
            for (const [code, count] of Object.entries(run.skippedDocuments.byCode ?? {})) this.#runRefused.set({run: id, code}, count);
            for (const [state, value] of Object.entries(run.documents)) this.#runDocuments.set({run: id, state}, value);
            this.#runProgress.set({run: id}, run.percent / 100);
            this.#runTokensRate.set({run: id}, run.throughput.tokensPerSecond);
            this.#runDocumentsRate.set({run: id}, run.throughput.documentsPerSecond);
            if (run.eta.seconds !== null) this.#runEta.set({run: id}, run.eta.seconds);
            this.#runFailedShards.set({run: id}, run.shards.failed);
            this.#runActiveWorkers.set({run: id}, run.activeWorkers);
            for (const worker of run.workers) {
                // counters read back from Redis: the stored totals are the counters' values
                if (worker.documents > 0) this.#documents.inc({run: id, worker: worker.name}, worker.documents);
                if (worker.tokens > 0) this.#tokens.inc({run: id, worker: worker.name}, worker.tokens);
                if (worker.failures > 0) this.#failures.inc({run: id, worker: worker.name}, worker.failures);
            }
            queues.set(run.queue.name, run.queue);
        }
        for (const queue of queues.values())
            for (const state of ["waiting", "active", "delayed", "prioritized", "failed"] as const) this.#queueJobs.set({queue: queue.name, state}, queue[state]);
        for (const worker of status.workers) {
            this.#workerUp.set({worker: worker.name, host: worker.host, backend: worker.backend, state: worker.state}, worker.state === "busy" || worker.state === "idle" ? 1 : 0);
            this.#workerTokensRate.set({worker: worker.name, host: worker.host}, worker.tokensPerSecond);
            if (worker.engineTokensPerSecond !== null) this.#workerEngineRate.set({worker: worker.name, host: worker.host}, worker.engineTokensPerSecond);
            this.#workerHeartbeatAge.set({worker: worker.name}, worker.heartbeatAgeSeconds);
            this.#workerShards.set({worker: worker.name}, worker.current.length);
            if (worker.paused !== null) this.#workerPaused.set({worker: worker.name, reason: worker.paused}, 1);
            this.#workerMemory.set({worker: worker.name, kind: "total"}, worker.memory.totalBytes);
            this.#workerMemory.set({worker: worker.name, kind: "free"}, worker.memory.freeBytes);
            this.#workerMemory.set({worker: worker.name, kind: "rss"}, worker.memory.processRssBytes);
        }
        return this.registry.metrics();
    }
}
