import {access} from "node:fs/promises";
import {DEFAULT_STATE_DIR, FleetKeys, isOrchardError, OrchardError, type Logger, type RunSpec} from "@orchard/shared";
import type {Redis} from "ioredis";
import {cancelRun} from "../run/cancel-run.ts";
import {LocalRunRecords} from "../run/local-run-records.ts";
import {resumeRun} from "../run/run-coordinator.ts";
import {RunStore} from "../run/run-store.ts";
import {failedShardsToRetry, requeueFailedShards} from "../run/failed-shard-retry.ts";
import {RunLayout} from "../run/run-layout.ts";
import type {QueueRegistry} from "./queue-registry.ts";

/** What a retry request did. */
export interface RetryOutcome {
    readonly runId: string;
    readonly shards: readonly number[];
    /**
     * queued: the run's coordinator (in its first pass) reruns them when the pass ends;
     * session: no coordinator was running, so this process started one to rerun them now.
     */
    readonly mode: "queued" | "session";
    readonly message: string;
}

export interface RunActionsOptions {
    readonly redis: Redis;
    /** URL of the same Redis, for the sessions and cancels this starts (their own connections). */
    readonly redisUrl: string;
    readonly keyPrefix: string;
    readonly queues: QueueRegistry;
    /** Whether a retry may start a coordinator session here when none runs (the run's files must be on this machine). Default true. */
    readonly allowSessions?: boolean;
    /**
     * State folder whose record of a run (`<stateDir>/runs/<runId>.json`) a retry session must match:
     * only runs this machine created or took over are coordinated here. Default ".orchard".
     */
    readonly stateDir?: string;
    readonly logger?: Logger;
    /** Told when a session this started ends (or fails), for the dashboard's notices. */
    readonly onSessionEnd?: (runId: string, outcome: {ok: boolean; message: string}) => void;
}

/**
 * The dashboard's buttons: rerun failed shards, cancel a run. A retry never races the run's
 * coordinator: while one holds the run in its first pass, the shards are moved to the retry set in
 * a transaction watched against the merge cursor (the coordinator reruns and patches them when its
 * pass ends); when no coordinator runs, this process becomes the coordinator for the retry
 * (`orchard retry-failed`'s work, under the run's lock), provided the run's files are here.
 */
export class RunActions {
    readonly #options: RunActionsOptions;
    readonly #store: RunStore;
    readonly #log: Logger | undefined;
    readonly #sessions = new Map<string, {controller: AbortController; done: Promise<void>}>();

    public constructor(options: RunActionsOptions) {
        this.#options = options;
        this.#store = new RunStore(options.redis, new FleetKeys(options.keyPrefix));
        this.#log = options.logger?.child({component: "dashboard-actions"});
    }

    /** Reruns failed shards of a run (`"all"`: every failed one). */
    public async retry(runId: string, shards: readonly number[] | "all"): Promise<RetryOutcome> {
        const run = await this.#store.requireRun(runId);
        if (run.state.status === "cancelled") throw new OrchardError("RUN_CANCELLED", `run ${runId} was cancelled; start it again with orchard run`);
        const failures = await this.#store.failures(runId);
        const wanted = failedShardsToRetry(runId, failures, shards);
        if (wanted.length === 0) throw new OrchardError("INVALID_ARGUMENT", `run ${runId} has no failed shards to retry`);
        const layout = RunLayout.fromSpec(run.spec);
        const queue = this.#options.queues.get(run.spec.queueName);
        const label = wanted.length === 1 ? `shard #${wanted[0]}` : `${wanted.length} shards`;

        if (await this.#options.redis.exists(this.#store.keys.lock(runId)) === 1) {
            await requeueFailedShards({store: this.#store, queue, layout, shards: wanted, whileFirstPass: {redis: this.#options.redis}});
            this.#log?.info({runId, shards: wanted}, "failed shards queued for a retry by the run's coordinator");
            return {runId, shards: wanted, mode: "queued", message: `${label} queued: the run's coordinator reruns ${wanted.length === 1 ? "it" : "them"} when its first pass ends and patches the outputs`};
        }
        if (this.#options.allowSessions === false)
            throw new OrchardError("RUN_BUSY", `no coordinator is running run ${runId}: rerun its failed shards with \`orchard retry-failed ${runId}\``);
        await this.#assertRecordedHere(run.spec);
        await this.#assertFilesHere(run.spec);
        await requeueFailedShards({store: this.#store, queue, layout, shards: wanted});
        this.#startSession(runId);
        return {runId, shards: wanted, mode: "session", message: `rerunning ${label} now: this dashboard coordinates the retry and patches the outputs`};
    }

    /** `orchard cancel RUN`; a retry session of this process for the run stops with it. */
    public async cancel(runId: string): Promise<{runId: string; message: string}> {
        const outcome = await cancelRun({runId, redisUrl: this.#options.redisUrl, keyPrefix: this.#options.keyPrefix, ...(this.#log === undefined ? {} : {logger: this.#log})});
        this.#sessions.get(runId)?.controller.abort();
        return {runId, message: `run ${runId} cancelled (${outcome.removedJobs} queued shard${outcome.removedJobs === 1 ? "" : "s"} removed)`};
    }

    /** Whether this process is coordinating a retry of the run. */
    public sessionRunning(runId: string): boolean {
        return this.#sessions.has(runId);
    }

    /** Stops the sessions this started (their runs stay resumable) and waits for them. */
    public async close(): Promise<void> {
        for (const session of this.#sessions.values()) session.controller.abort();
        await Promise.all([...this.#sessions.values()].map((session) => session.done));
    }

    /** The spec in Redis must be this machine's record of the run (checked again by the session): a worker could have pointed its outputs anywhere. */
    async #assertRecordedHere(spec: RunSpec): Promise<void> {
        try {
            await new LocalRunRecords(this.#stateDir).check(spec, undefined);
        } catch (error) {
            if (isOrchardError(error) && error.code === "RUN_RECORD_MISMATCH" && error.details["field"] === "record")
                throw new OrchardError("RUN_RECORD_MISMATCH",
                    `run ${spec.runId} has no record on this machine (state dir ${this.#stateDir}): take it over with \`orchard retry-failed ${spec.runId} --output-dir DIR\` (the folder of its outputs)`,
                    {details: error.details});
            throw error;
        }
    }

    get #stateDir(): string {
        return this.#options.stateDir ?? DEFAULT_STATE_DIR;
    }

    async #assertFilesHere(spec: RunSpec): Promise<void> {
        for (const input of spec.inputs)
            for (const path of [input.path, input.output])
                await access(path).catch(() => {
                    throw new OrchardError("RUN_BUSY", `${path} is not on this machine: rerun the failed shards with \`orchard retry-failed ${spec.runId}\` where the run's coordinator ran`);
                });
    }

    #startSession(runId: string): void {
        const controller = new AbortController();
        const done = resumeRun({
            runId, redisUrl: this.#options.redisUrl, keyPrefix: this.#options.keyPrefix, stateDir: this.#stateDir, localWorkers: 0, signal: controller.signal,
            ...(this.#options.logger === undefined ? {} : {logger: this.#options.logger})
        }).then((summary) => {
            const message = summary.status === "completed"
                ? `run ${runId} completed: every document is in the outputs`
                : `retry of run ${runId} ended ${summary.status}${summary.missingDocuments > 0 ? ` with ${summary.missingDocuments} documents still missing` : ""}`;
            this.#log?.info({runId, status: summary.status}, message);
            this.#options.onSessionEnd?.(runId, {ok: summary.status === "completed", message});
        }, (error: unknown) => {
            const message = `retry of run ${runId} failed: ${(error as Error).message ?? String(error)}`;
            this.#log?.error({runId, err: error}, message);
            this.#options.onSessionEnd?.(runId, {ok: false, message});
        }).finally(() => this.#sessions.delete(runId));
        this.#sessions.set(runId, {controller, done});
    }
}
