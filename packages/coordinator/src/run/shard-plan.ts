import type {DatasetStart} from "@orchard/shared";

/** One shard: consecutive documents of one input. */
export interface PlannedShard {
    /** Index across all the run's inputs: the merge order. */
    readonly global: number;
    readonly input: number;
    /** Index among its input's shards (job ids use it). */
    readonly local: number;
    /** Index of its first document in its input. */
    readonly firstDocument: number;
    readonly documents: number;
    /** Where its first document starts in the input file; undefined for plans built from counts only. */
    readonly start: DatasetStart | undefined;
}

/** What the plan needs of an input: its document count and, when known, where each shard starts. */
export interface PlanInput {
    readonly documents: number;
    /** The start of every shard's first document, from the input scan. */
    readonly shardStarts?: readonly DatasetStart[];
}

/**
 * Cuts a run's inputs into shards of `shardSize` consecutive documents (the last of each input may
 * be shorter; an input never shares a shard with another, so a shard writes to one output) and
 * numbers them across inputs in input order.
 */
export class ShardPlan {
    public readonly shardSize: number;
    /** Shards in the whole run. */
    public readonly total: number;
    readonly #inputs: readonly PlanInput[];
    /** Global index of each input's first shard, plus the total at the end. */
    readonly #firstShard: readonly number[];

    public constructor(inputs: readonly PlanInput[], shardSize: number) {
        if (!Number.isInteger(shardSize) || shardSize <= 0) throw new RangeError(`shard size must be a positive integer, got ${shardSize}`);
        this.shardSize = shardSize;
        this.#inputs = inputs;
        const firstShard: number[] = [];
        let total = 0;
        for (const input of inputs) {
            firstShard.push(total);
            const shards = ShardPlan.shardsOf(input.documents, shardSize);
            if (input.shardStarts !== undefined && input.shardStarts.length !== shards)
                throw new RangeError(`an input of ${input.documents} documents has ${input.shardStarts.length} shard starts, expected ${shards}`);
            total += shards;
        }
        firstShard.push(total);
        this.#firstShard = firstShard;
        this.total = total;
    }

    public static shardsOf(documents: number, shardSize: number): number {
        return Math.ceil(documents / shardSize);
    }

    public get inputCount(): number {
        return this.#inputs.length;
    }

    /** Global index of input `input`'s first shard (equal to the next input's when it has none). */
    public firstShardOf(input: number): number {
        const first = this.#firstShard[input];
        if (first === undefined) throw new RangeError(`no input ${input}`);
        return first;
    }

    public shardsOfInput(input: number): number {
        return this.firstShardOf(input + 1) - this.firstShardOf(input);
    }

    /** The shard at global index `global`. */
    public shard(global: number): PlannedShard {
        if (!Number.isInteger(global) || global < 0 || global >= this.total) throw new RangeError(`no shard ${global} (the run has ${this.total})`);
        // binary search for the last input whose first shard is <= global (inputs without shards are skipped over)
        let low = 0;
        let high = this.#inputs.length - 1;
        while (low < high) {
            const middle = Math.ceil((low + high) / 2);
            if ((this.#firstShard[middle] as number) <= global) low = middle;
            else high = middle - 1;
        }
        let input = low;
        while (this.shardsOfInput(input) === 0) input--;
        const local = global - this.firstShardOf(input);
        const documents = (this.#inputs[input] as PlanInput).documents;
        const firstDocument = local * this.shardSize;
        return {
            global, input, local, firstDocument,
            documents: Math.min(this.shardSize, documents - firstDocument),
            start: this.#inputs[input]?.shardStarts?.[local]
        };
    }
}
