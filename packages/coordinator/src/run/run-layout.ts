import {OrchardError, runTaskOf, shardJobId, type PreparedDocument, type RunInput, type RunSpec} from "@orchard/shared";
import {readShardDocuments, runMaxLineBytes, type ScannedInput} from "./input-scanner.ts";
import {ShardPlan, type PlannedShard} from "./shard-plan.ts";

/**
 * The identity of a run's pieces, built from its record (the spec): how its inputs are cut into
 * shards (ShardPlan), each shard's BullMQ job id, which input and local shard a global shard is,
 * and reading a shard's documents from its input. The one place these are computed: a session, the
 * status, the dashboard's retry and `retry-failed` all ask it, so they can never disagree.
 */
export class RunLayout {
    public readonly spec: RunSpec;
    /** The shard arithmetic (merge order, boundaries): what the merger and the patcher walk. */
    public readonly plan: ShardPlan;

    private constructor(spec: RunSpec, plan: ShardPlan) {
        this.spec = spec;
        this.plan = plan;
    }

    /** The layout from the record alone (document counts): boundaries, job ids, lookups; no document reads (fromScan). */
    public static fromSpec(spec: RunSpec): RunLayout {
        return new RunLayout(spec, new ShardPlan(spec.inputs.map((input) => ({documents: input.documents})), spec.shardSize, spec.shardTaper));
    }

    /** The layout of a run whose inputs were just scanned (checked to be the very files of the spec): shards are read from where they start. */
    public static fromScan(spec: RunSpec, scanned: readonly ScannedInput[]): RunLayout {
        if (scanned.length !== spec.inputs.length) throw new OrchardError("INTERNAL", `run ${spec.runId} has ${spec.inputs.length} inputs, ${scanned.length} were scanned`);
        return new RunLayout(spec, new ShardPlan(scanned.map((input) => ({documents: input.documents, shardStarts: input.shardStarts})), spec.shardSize, spec.shardTaper));
    }

    /** Shards in the whole run. */
    public get total(): number {
        return this.plan.total;
    }

    /** The shard at global index `global` (RangeError past the run's shards). */
    public shard(global: number): PlannedShard {
        return this.plan.shard(global);
    }

    /** Whether `global` names a shard of this run (a record read back from Redis may name any number). */
    public has(global: number): boolean {
        return Number.isInteger(global) && global >= 0 && global < this.plan.total;
    }

    /** The BullMQ job id of a shard: deterministic, so adding a shard again is a no-op while its job exists. */
    public jobId(global: number): string {
        const shard = this.plan.shard(global);
        return shardJobId(this.spec.runId, shard.input, shard.local);
    }

    /** The input (file, output) a shard belongs to. */
    public inputOf(global: number): RunInput {
        return this.input(this.plan.shard(global).input);
    }

    public input(index: number): RunInput {
        const input = this.spec.inputs[index];
        if (input === undefined) throw new RangeError(`run ${this.spec.runId} has no input ${index}`);
        return input;
    }

    /** The longest input line the run's inputs are read with (the limit they were validated with). */
    public get maxLineBytes(): number {
        return runMaxLineBytes(this.spec);
    }

    /** A shard's documents, as the run prompts them, read from where the input scan found it starts (a layout fromScan). */
    public readDocuments(global: number): Promise<PreparedDocument[]> {
        return readShardDocuments(this.input(this.plan.shard(global).input).path, this.spec.prompt, this.plan.shard(global), this.maxLineBytes, runTaskOf(this.spec));
    }
}
