import type {DatasetStart, ShardTaper} from "@orchard/shared";

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
    /** The start of every shard's first document, from the input scan (see ShardStartCollector). */
    readonly shardStarts?: readonly DatasetStart[];
}

/** How one input is cut: `fullShards` shards of `shardSize` from its start, then `tailFirsts` (first documents of the tapered shards). */
interface InputLayout {
    readonly documents: number;
    readonly fullShards: number;
    readonly tailFirsts: readonly number[];
    readonly shards: number;
}

/**
 * How an input of `documents` documents is cut. Shards hold `shardSize` consecutive documents,
 * except near the input's end with a taper (guided self-scheduling): once fewer than
 * `divisor * shardSize` documents remain, each shard takes 1/divisor of what remains, never fewer
 * than `minimum` nor more than `shardSize`. The last shards are then small, so the slowest Mac's
 * last shard ends soon after the others' (the tail) and the in-order merge does not wait long for
 * it, while the run pays only ~divisor * ln(shardSize / minimum) extra shards per input.
 * Deterministic: a resumed run cuts the same shards (job ids depend on it).
 */
export function layoutInput(documents: number, shardSize: number, taper: ShardTaper | undefined): InputLayout {
    if (taper === undefined) return {documents, fullShards: Math.floor(documents / shardSize), tailFirsts: documents % shardSize === 0 ? [] : [documents - (documents % shardSize)], shards: Math.ceil(documents / shardSize)};
    const fullShards = Math.floor(Math.max(0, documents - taper.divisor * shardSize) / shardSize);
    const tailFirsts: number[] = [];
    for (let first = fullShards * shardSize; first < documents;) {
        tailFirsts.push(first);
        const remaining = documents - first;
        const size = Math.min(remaining, shardSize, Math.max(taper.minimum, Math.ceil(remaining / taper.divisor)));
        // no runt below the minimum at the very end: the last shard takes it
        first += remaining - size < taper.minimum && remaining <= shardSize ? remaining : size;
    }
    return {documents, fullShards, tailFirsts, shards: fullShards + tailFirsts.length};
}

/**
 * Cuts a run's inputs into shards of consecutive documents (layoutInput; an input never shares a
 * shard with another, so a shard writes to one output) and numbers them across inputs in input order.
 */
export class ShardPlan {
    public readonly shardSize: number;
    /** Shards in the whole run. */
    public readonly total: number;
    readonly #inputs: readonly PlanInput[];
    readonly #layouts: readonly InputLayout[];
    /** Global index of each input's first shard, plus the total at the end. */
    readonly #firstShard: readonly number[];

    public constructor(inputs: readonly PlanInput[], shardSize: number, taper?: ShardTaper) {
        if (!Number.isInteger(shardSize) || shardSize <= 0) throw new RangeError(`shard size must be a positive integer, got ${shardSize}`);
        if (taper !== undefined && !(Number.isInteger(taper.divisor) && taper.divisor > 0 && Number.isInteger(taper.minimum) && taper.minimum > 0))
            throw new RangeError(`shard taper needs a positive integer divisor and minimum, got ${JSON.stringify(taper)}`);
        this.shardSize = shardSize;
        this.#inputs = inputs;
        const firstShard: number[] = [];
        const layouts: InputLayout[] = [];
        let total = 0;
        for (const input of inputs) {
            firstShard.push(total);
            const layout = layoutInput(input.documents, shardSize, taper);
            if (input.shardStarts !== undefined && input.shardStarts.length !== layout.shards)
                throw new RangeError(`an input of ${input.documents} documents has ${input.shardStarts.length} shard starts, expected ${layout.shards}`);
            layouts.push(layout);
            total += layout.shards;
        }
        firstShard.push(total);
        this.#firstShard = firstShard;
        this.#layouts = layouts;
        this.total = total;
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

    /** Global index of the shard holding document `index` of input `input`. */
    public shardOfDocument(input: number, index: number): number {
        const layout = this.#layout(input);
        if (!Number.isInteger(index) || index < 0 || index >= layout.documents) throw new RangeError(`input ${input} has no document ${index}`);
        const full = layout.fullShards * this.shardSize;
        if (index < full) return this.firstShardOf(input) + Math.floor(index / this.shardSize);
        // the last tapered shard starting at or before the document
        let low = 0;
        let high = layout.tailFirsts.length - 1;
        while (low < high) {
            const middle = Math.ceil((low + high) / 2);
            if ((layout.tailFirsts[middle] as number) <= index) low = middle;
            else high = middle - 1;
        }
        return this.firstShardOf(input) + layout.fullShards + low;
    }

    /** Documents of input `input` in its shards before its local shard `local` (all of them when `local` is past its end). */
    public documentsBefore(input: number, local: number): number {
        const layout = this.#layout(input);
        if (local <= 0) return 0;
        if (local >= layout.shards) return layout.documents;
        return local < layout.fullShards ? local * this.shardSize : (layout.tailFirsts[local - layout.fullShards] as number);
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
        const firstDocument = this.documentsBefore(input, local);
        return {
            global, input, local, firstDocument,
            documents: this.documentsBefore(input, local + 1) - firstDocument,
            start: this.#inputs[input]?.shardStarts?.[local]
        };
    }

    #layout(input: number): InputLayout {
        const layout = this.#layouts[input];
        if (layout === undefined) throw new RangeError(`no input ${input}`);
        return layout;
    }
}

/**
 * Notes, while an input is scanned, where every shard of `layoutInput` will start, before the
 * document count is known: the start of every `shardSize`-th document, plus the last
 * `divisor * shardSize + shardSize` starts (the tapered shards lie among them). Bounded memory:
 * ~one entry per shard and a fixed ring.
 */
export class ShardStartCollector {
    readonly #shardSize: number;
    readonly #taper: ShardTaper | undefined;
    readonly #aligned: DatasetStart[] = [];
    readonly #ring: DatasetStart[];
    #count = 0;

    public constructor(shardSize: number, taper: ShardTaper | undefined) {
        this.#shardSize = shardSize;
        this.#taper = taper;
        this.#ring = new Array<DatasetStart>(taper === undefined ? 1 : (taper.divisor + 1) * shardSize);
    }

    /** Call with each document's start, in order (start.index counting from 0). */
    public add(start: DatasetStart): void {
        if (start.index !== this.#count) throw new RangeError(`documents must come in order: expected ${this.#count}, got ${start.index}`);
        if (start.index % this.#shardSize === 0) this.#aligned.push(start);
        this.#ring[start.index % this.#ring.length] = start;
        this.#count++;
    }

    /** The start of each shard, once every document was added. */
    public starts(): DatasetStart[] {
        const layout = layoutInput(this.#count, this.#shardSize, this.#taper);
        const starts = this.#aligned.slice(0, layout.fullShards);
        for (const first of layout.tailFirsts) {
            const start = first % this.#shardSize === 0 && first / this.#shardSize < this.#aligned.length
                ? this.#aligned[first / this.#shardSize]
                : this.#ring[first % this.#ring.length];
            if (start === undefined || start.index !== first) throw new RangeError(`no recorded start for document ${first}`);
            starts.push(start);
        }
        return starts;
    }
}
