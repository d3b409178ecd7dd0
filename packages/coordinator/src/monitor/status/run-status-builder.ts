import {basename} from "node:path";
import {
    rollingRate, runNumericsOf, runTaskOf, WORKER_FORGET_AFTER_MS, WORKER_LOST_AFTER_MS, type FailedShard, type RunMachine, type RunSpec, type RunState, type RunStatusReport,
    type ShardProvenance, type ShardRefusal,
    type RunWorker, type ShardFailure, type SkippedDocument, type WorkerHeartbeat, type WorkerState, type WorkerStatus
} from "@orchard/shared";
import {RunLayout} from "../../run/run-layout.ts";
import type {QueueCounts} from "../queue-registry.ts";
import type {ThroughputSample} from "./throughput-series.ts";

/** Everything read from Redis about one run, at one moment. */
export interface RunRecords {
    readonly spec: RunSpec;
    readonly state: RunState;
    readonly updatedAt: string | undefined;
    readonly finishedAt: string | undefined;
    /** Results computed and waiting to be merged. */
    readonly waitingShards: number;
    readonly coordinatorActive: boolean;
    readonly failures: ReadonlyMap<number, ShardFailure>;
    readonly skipped: readonly SkippedDocument[];
    readonly retrying: readonly number[];
    /** Per-worker counters: worker -> counter -> value. */
    readonly counters: ReadonlyMap<string, {documents: number; tokens: number; shards: number; failures: number}>;
    /** Completed shards of the last minutes (the throughput stream). */
    readonly samples: readonly ThroughputSample[];
    readonly queue: QueueCounts;
    /** Where each merged shard was computed. Default none. */
    readonly provenance?: ReadonlyMap<number, ShardProvenance>;
    /** Why workers leave the run's shards alone, by worker. Default none. */
    readonly refusals?: ReadonlyMap<string, ShardRefusal>;
}

/** What the caller knows beyond Redis: the coordinator showing the status started these local workers. */
export interface RunStatusContext {
    /**
     * Names of the local workers the coordinator started and still waits for: until each has
     * reported (a heartbeat on the run's queue: they send it once the model is loaded), the run is
     * "starting", not failing for want of a worker. Default none.
     */
    readonly startingLocalWorkers?: readonly string[];
}

/** Health levels from best to worst: a problem only ever makes the health worse. */
const HEALTH_RANK: readonly RunStatusReport["health"][] = ["ok", "starting", "warning", "error"];

/** The local workers among `names` that have not reported on the run yet (no live heartbeat on its queue). */
export function pendingLocalWorkers(names: readonly string[], workers: readonly Pick<RunWorker, "name" | "state">[]): string[] {
    const reported = new Set(workers.filter((worker) => worker.state === "busy" || worker.state === "idle" || worker.state === "stopping").map((worker) => worker.name));
    return names.filter((name) => !reported.has(name));
}

/** A run stalls (a warning) when no shard completed for this long while documents remain. */
const STALL_AFTER_MS = 5 * 60_000;
/** Skipped documents listed by name in a status. */
const LISTED_SKIPPED = 20;

/** A heartbeat's state now: the worker's word, or lost when it went silent. */
export function workerStateOf(heartbeat: WorkerHeartbeat, nowMs: number, lostAfterMs: number = WORKER_LOST_AFTER_MS): WorkerState {
    if (heartbeat.state === "stopped") return "stopped";
    return nowMs - heartbeat.atMs > Math.max(lostAfterMs, 3 * heartbeat.intervalMs) ? "lost" : heartbeat.state;
}

/** A fleet worker's row, from its heartbeat. */
export function workerStatusOf(heartbeat: WorkerHeartbeat, nowMs: number, lostAfterMs?: number): WorkerStatus {
    const state = workerStateOf(heartbeat, nowMs, lostAfterMs);
    // a worker that stopped or went silent computes nothing now, whatever it last said
    const working = state !== "lost" && state !== "stopped";
    return {
        name: heartbeat.name,
        host: heartbeat.host,
        os: `${heartbeat.os.platform} ${heartbeat.os.release} ${heartbeat.os.arch}`,
        chip: heartbeat.cpu.model,
        cores: heartbeat.cpu.cores,
        backend: heartbeat.engine.backend,
        engine: heartbeat.engine.kind,
        contexts: heartbeat.engine.contexts,
        concurrency: heartbeat.concurrency,
        memory: heartbeat.memory,
        model: heartbeat.model,
        state,
        startedAt: iso(heartbeat.startedAtMs),
        lastHeartbeatAt: iso(heartbeat.atMs),
        heartbeatAgeSeconds: Math.max(0, (nowMs - heartbeat.atMs) / 1000),
        tokensPerSecond: working ? heartbeat.throughput.tokensPerSecond : 0,
        documentsPerSecond: working ? heartbeat.throughput.documentsPerSecond : 0,
        engineTokensPerSecond: heartbeat.engineTokensPerSecond,
        totals: heartbeat.totals,
        current: heartbeat.current.map((shard) => ({runId: shard.runId, shard: shard.shard, jobId: shard.jobId, documents: shard.documents, startedAt: iso(shard.startedAtMs)})),
        // a worker that stopped or went silent is not paused any more, whatever it last said
        paused: working ? heartbeat.paused?.reason ?? null : null
    };
}

/** Whether a fleet-wide listing still shows this worker (alive, or gone for less than an hour). */
export function workerIsRecent(heartbeat: WorkerHeartbeat, nowMs: number, lostAfterMs?: number): boolean {
    const state = workerStateOf(heartbeat, nowMs, lostAfterMs);
    return (state !== "lost" && state !== "stopped") || nowMs - heartbeat.atMs < WORKER_FORGET_AFTER_MS;
}

/**
 * A run's status from its records: progress per input and overall, throughput over the last
 * minute, ETA, the workers that serve or served it, failures, and a one-word health with reasons.
 */
export function buildRunStatus(
    records: RunRecords, heartbeats: ReadonlyMap<string, WorkerHeartbeat>, nowMs: number, lostAfterMs?: number, context: RunStatusContext = {}
): RunStatusReport {
    const {spec, state} = records;
    const layout = RunLayout.fromSpec(spec);
    const plan = layout.plan;
    const retrying = new Set(records.retrying);

    // per input: documents below the merge cursor are in the output, unless their shard failed (or is being retried) or the worker refused them
    const inputs = spec.inputs.map((input, index) => {
        const first = plan.firstShardOf(index);
        const shards = plan.shardsOfInput(index);
        const belowCursor = plan.documentsBefore(index, Math.max(0, Math.min(state.cursorShard - first, shards)));
        let failedDocuments = 0;
        let retryingDocuments = 0;
        for (let shard = first; shard < first + shards; shard++) {
            if (records.failures.has(shard)) failedDocuments += plan.shard(shard).documents;
            else if (retrying.has(shard)) retryingDocuments += plan.shard(shard).documents;
        }
        const skipped = records.skipped.filter((doc) => doc.input === index).length;
        const missing = failedDocuments + skipped;
        const merged = Math.max(0, belowCursor - missing - retryingDocuments);
        return {
            file: input.displayPath, output: input.output, documents: input.documents, merged, missing, retrying: retryingDocuments,
            percent: percentOf(merged + missing, input.documents)
        };
    });
    const total = spec.inputs.reduce((sum, input) => sum + input.documents, 0);
    const missing = inputs.reduce((sum, input) => sum + input.missing, 0);
    const retryingDocuments = inputs.reduce((sum, input) => sum + input.retrying, 0);
    const merged = Math.min(state.mergedDocuments, total - missing);
    const remaining = Math.max(0, total - merged - missing);
    const running = state.status === "running";

    // a run that is not running is measured as it was when its work ended, not decaying forever
    const lastEnd = Math.max(...records.samples.map((sample) => sample.endMs));
    const rateAt = running || !Number.isFinite(lastEnd) ? nowMs : lastEnd;
    const firstStart = Math.min(...records.samples.map((sample) => sample.endMs - sample.elapsedMs));
    const rate = rollingRate(records.samples, rateAt, Number.isFinite(firstStart) ? {sinceMs: firstStart} : {});
    const etaSeconds = running && rate.documentsPerSecond > 0 && remaining > 0 ? remaining / rate.documentsPerSecond : running && remaining === 0 ? 0 : null;

    const workers = runWorkers(records, heartbeats, nowMs, rateAt, lostAfterMs);
    const servingQueue = [...heartbeats.values()].filter((heartbeat) => heartbeat.model.queue === spec.queueName);
    const activeWorkers = servingQueue.filter((heartbeat) => ["busy", "idle"].includes(workerStateOf(heartbeat, nowMs, lostAfterMs))).length;

    const failedShards: FailedShard[] = [];
    for (const [shard, failure] of [...records.failures.entries()].sort(([a], [b]) => a - b)) {
        const planned = safeShard(layout, shard);
        if (planned === undefined) continue;
        failedShards.push({
            shard, input: planned.input, file: spec.inputs[planned.input]?.displayPath ?? "?", firstDocument: planned.firstDocument + 1, documents: planned.documents,
            code: failure.code, message: failure.message, attempts: failure.attempts, at: failure.at, retrying: false
        });
    }

    const problems: string[] = [];
    let health: RunStatusReport["health"] = "ok";
    const raise = (level: Exclude<RunStatusReport["health"], "ok">, problem: string) => {
        problems.push(problem);
        if (HEALTH_RANK.indexOf(level) > HEALTH_RANK.indexOf(health)) health = level;
    };
    if (running) {
        if (!records.coordinatorActive) raise("error", `no coordinator is merging this run: resume it with \`orchard resume ${spec.runId}\``);
        // the coordinator's own workers are still loading the model: nobody serving the queue yet is expected, not an error
        const starting = pendingLocalWorkers(context.startingLocalWorkers ?? [], workers).length;
        if (starting > 0 && remaining > 0) raise("starting", `starting ${starting} local worker${starting === 1 ? "" : "s"} (loading the model)`);
        else if (activeWorkers === 0 && remaining > 0) raise("error", `no worker is serving queue ${spec.queueName}: start \`orchard worker --model ${basename(spec.model.path)}\``);
        const lastCompletion = Math.max(...records.samples.map((sample) => sample.endMs));
        const createdMs = Date.parse(spec.createdAt);
        if (remaining > 0 && activeWorkers > 0 && nowMs - (Number.isFinite(lastCompletion) ? lastCompletion : createdMs) > STALL_AFTER_MS)
            raise("warning", `no shard completed in the last ${Math.round(STALL_AFTER_MS / 60_000)} minutes`);
    }
    for (const worker of workers)
        if (worker.state === "lost" && (running || worker.currentShards.length > 0))
            raise("warning", `worker ${worker.name}${worker.host === null ? "" : ` (${worker.host})`} is lost: silent for ${formatAge(worker.heartbeatAgeSeconds ?? 0)}`);
    if (failedShards.length > 0) {
        const documents = failedShards.reduce((sum, shard) => sum + shard.documents, 0);
        raise(running ? "warning" : "error", `${failedShards.length} shard${failedShards.length === 1 ? "" : "s"} failed (${documents} documents): retry from the dashboard or with \`orchard retry-failed ${spec.runId}\``);
    }
    if (records.skipped.length > 0)
        raise(running ? "warning" : "error", `${records.skipped.length} document${records.skipped.length === 1 ? " was" : "s were"} refused by the workers (${[...new Set(records.skipped.map((doc) => doc.code))].join(", ")})`);
    if (retrying.size > 0)
        raise("warning", `${retrying.size} shard${retrying.size === 1 ? " is" : "s are"} queued for a retry${records.coordinatorActive ? "" : `: a coordinator reruns ${retrying.size === 1 ? "it" : "them"} (\`orchard resume ${spec.runId}\`)`}`);
    if (state.status === "cancelled") raise("warning", "the run was cancelled");
    const machines = machineSplit(layout, records.provenance ?? new Map());
    if (machines.length > 1)
        raise("warning", `the run mixes ${machines.length} kinds of machine (${machines.map((machine) => `${machine.backend} ${machine.chip}: ${machine.documents} documents`).join("; ")}): ` +
            "their numbers differ in the last digits; see orchard provenance / orchard verify");
    else if (machines.some((machine) => machine.builds.length > 1))
        raise("warning", `the run mixes llama.cpp builds (${machines.flatMap((machine) => machine.builds).join("; ")}): their numbers may differ`);
    const refusals = [...(records.refusals ?? new Map()).entries()].sort(([a], [b]) => a.localeCompare(b));
    if (running && remaining > 0)
        for (const [worker, refusal] of refusals) raise("warning", `worker ${worker} leaves this run's shards alone: ${refusal.reason}`);
    const numerics = runNumericsOf(spec);

    return {
        runId: spec.runId,
        name: spec.name ?? null,
        status: state.status,
        health,
        problems,
        coordinator: records.coordinatorActive ? "active" : "absent",
        createdAt: spec.createdAt,
        updatedAt: records.updatedAt ?? null,
        finishedAt: records.finishedAt ?? null,
        engine: spec.engine.kind,
        model: {file: basename(spec.model.path), fingerprint: spec.model.fingerprint, queue: spec.queueName},
        shardSize: spec.shardSize,
        documents: {total, merged, missing, retrying: retryingDocuments, remaining},
        percent: percentOf(merged + missing, total),
        shards: {total: plan.total, merged: Math.min(state.cursorShard, plan.total), waiting: records.waitingShards, failed: records.failures.size, retrying: retrying.size},
        inputs,
        throughput: {
            tokensPerSecond: rate.tokensPerSecond, documentsPerSecond: rate.documentsPerSecond, windowSeconds: rate.windowSeconds,
            tokens: [...records.counters.values()].reduce((sum, counter) => sum + counter.tokens, 0)
        },
        eta: {seconds: etaSeconds, at: etaSeconds === null ? null : iso(nowMs + etaSeconds * 1000)},
        activeWorkers,
        workers,
        failedShards: [
            ...failedShards,
            ...[...retrying].sort((a, b) => a - b).flatMap((shard): FailedShard[] => {
                const planned = safeShard(layout, shard);
                return planned === undefined ? [] : [{
                    shard, input: planned.input, file: spec.inputs[planned.input]?.displayPath ?? "?", firstDocument: planned.firstDocument + 1,
                    documents: planned.documents, code: "RETRYING", message: "queued for a retry", attempts: 0, at: iso(nowMs), retrying: true
                }];
            })
        ],
        skippedDocuments: {
            count: records.skipped.length,
            first: records.skipped.slice(0, LISTED_SKIPPED).map((doc) => ({file: spec.inputs[doc.input]?.displayPath ?? "?", line: doc.line, id: doc.id, code: doc.code, message: doc.message})),
            byCode: countByCode(records.skipped)
        },
        task: runTaskOf(spec).kind,
        numerics: {...numerics, recorded: spec.numerics !== undefined},
        requires: {backend: spec.requires?.backend ?? null, chip: spec.requires?.chip ?? null},
        machines,
        refusals: refusals.map(([worker, refusal]) => ({worker, reason: refusal.reason, at: iso(refusal.atMs)})),
        queue: {name: spec.queueName, ...records.queue}
    };
}

/**
 * Workers with counters in the run, plus (while it runs) the workers of its queue that are alive,
 * or that stopped or went silent since it started.
 */
function runWorkers(records: RunRecords, heartbeats: ReadonlyMap<string, WorkerHeartbeat>, nowMs: number, rateAt: number, lostAfterMs: number | undefined): RunWorker[] {
    const names = new Set(records.counters.keys());
    const createdMs = Date.parse(records.spec.createdAt);
    if (records.state.status === "running")
        for (const heartbeat of heartbeats.values()) {
            if (heartbeat.model.queue !== records.spec.queueName) continue;
            const state = workerStateOf(heartbeat, nowMs, lostAfterMs);
            if (state === "busy" || state === "idle" || state === "stopping" || heartbeat.atMs >= createdMs) names.add(heartbeat.name);
        }
    return [...names].sort().map((name) => {
        const heartbeat = heartbeats.get(name);
        const counter = records.counters.get(name) ?? {documents: 0, tokens: 0, shards: 0, failures: 0};
        const samples = records.samples.filter((sample) => sample.worker === name);
        const firstStart = Math.min(...samples.map((sample) => sample.endMs - sample.elapsedMs));
        const rate = rollingRate(samples, rateAt, Number.isFinite(firstStart) ? {sinceMs: firstStart} : {});
        return {
            name,
            host: heartbeat?.host ?? null,
            chip: heartbeat?.cpu.model ?? null,
            backend: heartbeat?.engine.backend ?? null,
            state: heartbeat === undefined ? "unknown" : workerStateOf(heartbeat, nowMs, lostAfterMs),
            ...counter,
            tokensPerSecond: rate.tokensPerSecond,
            documentsPerSecond: rate.documentsPerSecond,
            lastHeartbeatAt: heartbeat === undefined ? null : iso(heartbeat.atMs),
            heartbeatAgeSeconds: heartbeat === undefined ? null : Math.max(0, (nowMs - heartbeat.atMs) / 1000),
            currentShards: heartbeat?.current.filter((shard) => shard.runId === records.spec.runId).map((shard) => shard.shard) ?? []
        };
    });
}

/** Documents of the merged shards per backend and chip (most documents first). */
function machineSplit(layout: RunLayout, provenance: ReadonlyMap<number, ShardProvenance>): RunMachine[] {
    const groups = new Map<string, {backend: string; chip: string; builds: Set<string>; documents: number; shards: number}>();
    for (const [shard, record] of provenance) {
        const planned = safeShard(layout, shard);
        if (planned === undefined) continue;
        const backend = record.machine?.backend ?? "unknown";
        const chip = record.machine?.chip ?? "unknown";
        const key = JSON.stringify([backend, chip]);
        let group = groups.get(key);
        if (group === undefined) groups.set(key, (group = {backend, chip, builds: new Set(), documents: 0, shards: 0}));
        if (record.machine !== undefined && record.machine.backend !== "simulated") group.builds.add(`${record.machine.nodeLlamaCpp} / ${record.machine.llamaCpp}`);
        group.documents += planned.documents;
        group.shards++;
    }
    return [...groups.values()].map((group) => ({...group, builds: [...group.builds].sort()}))
        .sort((a, b) => b.documents - a.documents || a.backend.localeCompare(b.backend) || a.chip.localeCompare(b.chip));
}

/** The shard of a number read back from Redis (any machine may write one), or undefined when the run has no such shard. */
function safeShard(layout: RunLayout, shard: number) {
    return layout.has(shard) ? layout.shard(shard) : undefined;
}

function percentOf(part: number, whole: number): number {
    return whole === 0 ? 100 : Math.min(100, Math.round((10_000 * part) / whole) / 100);
}

function iso(ms: number): string {
    return new Date(ms).toISOString();
}

/** "45s", "12m", "3h05m". */
export function formatAge(seconds: number): string {
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Refused documents per code (a task's own counts: generation's truncations and schema failures). */
function countByCode(skipped: readonly {readonly code: string}[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const doc of skipped) counts[doc.code] = (counts[doc.code] ?? 0) + 1;
    return counts;
}
