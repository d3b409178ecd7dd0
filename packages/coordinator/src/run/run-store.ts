import {
    FleetKeys, OrchardError, parseShardProvenance, runSpecSchema, runStateSchema, shardFailureSchema, shardRefusalSchema, shardResultSchemaOf, skippedDocumentSchema,
    type RunSpec, type RunState, type RunStatus, type ShardFailure, type ShardProvenance, type ShardRefusal, type ShardResult, type SkippedDocument, type TaskKind
} from "@orchard/shared";
import type {Redis} from "ioredis";

const DROP_IF_UNCHANGED = `if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then return redis.call("HDEL", KEYS[1], ARGV[1]) end return 0`;

/** A shard result as read from Redis: parsed, and the exact text (to delete it only if unchanged). */
export interface StoredResult {
    readonly result: ShardResult;
    readonly raw: string;
}

/** A run as stored: its fixed spec and its mutable state. */
export interface StoredRun {
    readonly spec: RunSpec;
    readonly state: RunState;
}

/** What one durable merge step changes, applied in one MULTI after the output is fsynced. */
export interface MergeCommit {
    readonly cursorShard: number;
    readonly cursorBytes: number;
    readonly mergedDocuments: number;
    /** Shards merged (their results are dropped). */
    readonly mergedShards: readonly number[];
    /** Shards passed over because they failed for good. */
    readonly failures: ReadonlyMap<number, ShardFailure>;
    /** Documents passed over on a worker's verdict. */
    readonly skipped: readonly SkippedDocument[];
    /** Where each merged shard was computed (kept for `orchard provenance` and the status's machine split). */
    readonly provenance: ReadonlyMap<number, ShardProvenance>;
}

/**
 * The run records in Redis (see FleetKeys for the layout). Everything read back is parsed with the
 * schemas in shared. Multi-key changes go through MULTI so that a crash between commands never
 * leaves a cursor that disagrees with the results it consumed.
 */
export class RunStore {
    public readonly keys: FleetKeys;
    readonly #redis: Redis;

    public constructor(redis: Redis, keys: FleetKeys) {
        this.#redis = redis;
        this.keys = keys;
    }

    public async findRunBySpec(specKey: string): Promise<string | undefined> {
        return (await this.#redis.get(this.keys.runBySpec(specKey))) ?? undefined;
    }

    /** Records a new run (status running, cursor at the start) and makes it the run of its spec. */
    public async createRun(spec: RunSpec): Promise<void> {
        await this.#redis.multi()
            .del(this.keys.results(spec.runId), this.keys.failed(spec.runId), this.keys.skipped(spec.runId), this.keys.retrying(spec.runId),
                this.keys.provenance(spec.runId), this.keys.refusals(spec.runId))
            .hset(this.keys.run(spec.runId), {spec: JSON.stringify(spec), status: "running", cursorShard: 0, cursorBytes: 0, mergedDocuments: 0, updatedAt: new Date().toISOString()})
            .set(this.keys.runBySpec(spec.specKey), spec.runId)
            .zadd(this.keys.runs(), Date.now(), spec.runId)
            .exec();
    }

    public async loadRun(runId: string): Promise<StoredRun | undefined> {
        const fields = await this.#redis.hgetall(this.keys.run(runId));
        if (fields["spec"] === undefined) return undefined;
        // any worker can write it: a spec that does not parse is RECORD_INVALID, not a bug
        const spec = parseJson(runSpecSchema, fields["spec"], `run ${runId}'s spec`);
        const state = runStateSchema.safeParse(fields);
        if (!state.success) throw new OrchardError("RECORD_INVALID", `run ${runId}'s state in Redis is invalid: ${state.error.message}`);
        return {spec, state: state.data};
    }

    public async requireRun(runId: string): Promise<StoredRun> {
        const run = await this.loadRun(runId);
        if (run === undefined)
            throw new OrchardError("RUN_NOT_FOUND", `no run "${runId}" in this Redis (key prefix "${this.keys.prefix}"); check --redis, --redis-prefix and --state-dir`);
        return run;
    }

    /** Sizes of the outputs when the run finished (to tell whether they are still its outputs). */
    public async outputSizes(runId: string): Promise<number[] | undefined> {
        const text = await this.#redis.hget(this.keys.run(runId), "outputSizes");
        if (text === null) return undefined;
        const value = safeJson(text);
        return Array.isArray(value) && value.every((size) => typeof size === "number") ? value as number[] : undefined;
    }

    public async status(runId: string): Promise<RunStatus | undefined> {
        const status = await this.#redis.hget(this.keys.run(runId), "status");
        return status === null ? undefined : runStateSchema.shape.status.parse(status);
    }

    public async setStatus(runId: string, status: RunStatus): Promise<void> {
        await this.#redis.hset(this.keys.run(runId), {status, updatedAt: new Date().toISOString()});
    }

    /**
     * Results of `shards`, in order (undefined where none arrived yet), with the stored text. A
     * result that does not parse (a worker of another Orchard version, a bug) is dropped and reported
     * through `onInvalid`: the shard then looks unanswered and its job is added again.
     */
    public async results(runId: string, shards: readonly number[], kind: TaskKind, onInvalid?: (shard: number, error: OrchardError) => void): Promise<(StoredResult | undefined)[]> {
        if (shards.length === 0) return [];
        const values = await this.#redis.hmget(this.keys.results(runId), ...shards.map(String));
        const results: (StoredResult | undefined)[] = [];
        for (const [i, raw] of values.entries()) {
            const shard = shards[i] as number;
            if (raw === null) {
                results.push(undefined);
                continue;
            }
            try {
                // checked against the run's task kind (its result fields, e.g. the attribute values)
                results.push({result: parseJson(shardResultSchemaOf(kind), raw, `the result of shard ${shard}`) as ShardResult, raw});
            } catch (error) {
                await this.dropResult(runId, shard, raw);
                onInvalid?.(shard, error as OrchardError);
                results.push(undefined);
            }
        }
        return results;
    }

    /**
     * Forgets a shard's result if it is still `raw` (invalid, or not matching its documents): a
     * worker may have written a good one since, which must not be lost.
     */
    public async dropResult(runId: string, shard: number, raw: string): Promise<void> {
        await this.#redis.eval(DROP_IF_UNCHANGED, 1, this.keys.results(runId), String(shard), raw);
    }

    /** Which of `shards` have a result waiting (one round trip). */
    public async haveResults(runId: string, shards: readonly number[]): Promise<boolean[]> {
        if (shards.length === 0) return [];
        const pipeline = this.#redis.pipeline();
        for (const shard of shards) pipeline.hexists(this.keys.results(runId), String(shard));
        const replies = (await pipeline.exec()) ?? [];
        return replies.map(([error, value]) => error === null && value === 1);
    }

    public async commitMerge(runId: string, commit: MergeCommit): Promise<void> {
        const multi = this.#redis.multi().hset(this.keys.run(runId), {
            cursorShard: commit.cursorShard, cursorBytes: commit.cursorBytes, mergedDocuments: commit.mergedDocuments,
            updatedAt: new Date().toISOString()
        });
        if (commit.mergedShards.length > 0) multi.hdel(this.keys.results(runId), ...commit.mergedShards.map(String));
        for (const [shard, failure] of commit.failures) multi.hset(this.keys.failed(runId), String(shard), JSON.stringify(failure));
        for (const doc of commit.skipped) multi.hset(this.keys.skipped(runId), `${doc.input}:${doc.index}`, JSON.stringify(doc));
        for (const [shard, provenance] of commit.provenance) multi.hset(this.keys.provenance(runId), String(shard), JSON.stringify(provenance));
        await exec(multi);
    }

    /** Where each merged shard was computed (shard -> record); a record that fails its schema is left out (reported through `onInvalid`). */
    public async provenance(runId: string, onInvalid?: (error: OrchardError) => void): Promise<Map<number, ShardProvenance>> {
        return parseShardProvenance(runId, await this.#redis.hgetall(this.keys.provenance(runId)), onInvalid);
    }

    /** Why workers leave the run's shards alone, by worker (their last word); invalid records are left out. */
    public async refusals(runId: string): Promise<Map<string, ShardRefusal>> {
        const fields = await this.#redis.hgetall(this.keys.refusals(runId));
        const refusals = new Map<string, ShardRefusal>();
        for (const [worker, text] of Object.entries(fields)) {
            const parsed = shardRefusalSchema.safeParse(safeJson(text));
            if (parsed.success && worker.length <= 256) refusals.set(worker, parsed.data);
        }
        return refusals;
    }

    /**
     * The run's failed shards. A failure record that does not parse still marks its shard failed
     * (code RECORD_INVALID): its documents are not in the outputs, and `retry-failed` can redo them.
     * Fields that are not shard numbers are left out. Both are reported through `onInvalid`.
     */
    public async failures(runId: string, onInvalid: (error: OrchardError) => void = () => undefined): Promise<Map<number, ShardFailure>> {
        const fields = await this.#redis.hgetall(this.keys.failed(runId));
        const failures = new Map<number, ShardFailure>();
        for (const [field, value] of Object.entries(fields)) {
            const shard = Number(field);
            if (!/^\d{1,9}$/.test(field)) {
                onInvalid(new OrchardError("RECORD_INVALID", `run ${runId} lists a failure of "${field.slice(0, 40)}", which is not a shard number; left out`));
                continue;
            }
            try {
                failures.set(shard, parseJson(shardFailureSchema, value, `the failure of shard ${shard}`));
            } catch (error) {
                onInvalid(error as OrchardError);
                failures.set(shard, {code: "RECORD_INVALID", message: "its failure record in Redis is unreadable", attempts: 0, at: new Date().toISOString()});
            }
        }
        return failures;
    }

    /** Documents refused by the workers, in input order; a record that does not parse is left out and reported through `onInvalid`. */
    public async skippedDocuments(runId: string, onInvalid: (error: OrchardError) => void = () => undefined): Promise<SkippedDocument[]> {
        const fields = await this.#redis.hgetall(this.keys.skipped(runId));
        const skipped: SkippedDocument[] = [];
        for (const value of Object.values(fields)) {
            try {
                skipped.push(parseJson(skippedDocumentSchema, value, `a document refused in run ${runId}`));
            } catch (error) {
                onInvalid(error as OrchardError);
            }
        }
        return skipped.sort((a, b) => a.input - b.input || a.index - b.index);
    }

    public async retrying(runId: string): Promise<number[]> {
        return (await this.#redis.smembers(this.keys.retrying(runId))).map(Number).sort((a, b) => a - b);
    }

    /** Moves failed shards to the retry set and reopens the run (`retry-failed`). */
    public async startRetry(runId: string, shards: readonly number[]): Promise<void> {
        if (shards.length === 0) return;
        await exec(this.#redis.multi()
            .sadd(this.keys.retrying(runId), ...shards.map(String))
            .hdel(this.keys.failed(runId), ...shards.map(String))
            .hset(this.keys.run(runId), {status: "running", updatedAt: new Date().toISOString()}));
    }

    /** Records the outcome of patching retried shards into the outputs. */
    public async commitPatch(runId: string, patch: {
        patched: readonly number[]; failedAgain: ReadonlyMap<number, ShardFailure>; skipped: readonly SkippedDocument[]; mergedDocuments: number; provenance: ReadonlyMap<number, ShardProvenance>;
    }): Promise<void> {
        const multi = this.#redis.multi().del(this.keys.retrying(runId))
            .hset(this.keys.run(runId), {mergedDocuments: patch.mergedDocuments, updatedAt: new Date().toISOString()});
        if (patch.patched.length > 0) multi.hdel(this.keys.results(runId), ...patch.patched.map(String));
        for (const [shard, failure] of patch.failedAgain) multi.hset(this.keys.failed(runId), String(shard), JSON.stringify(failure));
        for (const doc of patch.skipped) multi.hset(this.keys.skipped(runId), `${doc.input}:${doc.index}`, JSON.stringify(doc));
        for (const [shard, provenance] of patch.provenance) multi.hset(this.keys.provenance(runId), String(shard), JSON.stringify(provenance));
        await exec(multi);
    }

    /** Final status; a finished or cancelled run drops its leftover results (late duplicates of merged shards). */
    public async finish(runId: string, status: RunStatus, outputSizes: readonly number[] = []): Promise<void> {
        await exec(this.#redis.multi()
            .hset(this.keys.run(runId), {status, outputSizes: JSON.stringify(outputSizes), finishedAt: new Date().toISOString(), updatedAt: new Date().toISOString()})
            // refusals say why a running run waits: nothing to say once it ended
            .del(this.keys.results(runId), this.keys.refusals(runId)));
    }

    /** Forgets the spec -> run link (a cancelled run is not resumed by re-running its command). */
    public async unlinkSpec(spec: RunSpec): Promise<void> {
        const current = await this.#redis.get(this.keys.runBySpec(spec.specKey));
        if (current === spec.runId) await this.#redis.del(this.keys.runBySpec(spec.specKey));
    }

    public async deleteWorkingData(runId: string): Promise<void> {
        await this.#redis.del(this.keys.results(runId), this.keys.retrying(runId), this.keys.refusals(runId));
    }
}

/** The record, or RECORD_INVALID naming it and the first problems (paths and messages, not the values: they may be huge). */
function parseJson<T>(schema: {safeParse: (value: unknown) => {success: true; data: T} | {success: false; error: {issues: readonly {path: readonly PropertyKey[]; message: string}[]}}}, text: string, what: string): T {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new OrchardError("RECORD_INVALID", `${what} in Redis is not JSON: ${(error as Error).message.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join(".") || "(the record)"}: ${issue.message}`);
        throw new OrchardError("RECORD_INVALID", `${what} in Redis is invalid: ${issues.join("; ")}${parsed.error.issues.length > 3 ? "; ..." : ""}`);
    }
    return parsed.data;
}

function safeJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

async function exec(multi: ReturnType<Redis["multi"]>): Promise<void> {
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (replies === null || failed !== undefined)
        throw new OrchardError("REDIS_UNAVAILABLE", `a Redis transaction failed: ${String(failed?.[0] ?? "aborted")}`);
}
