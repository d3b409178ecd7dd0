/** Writes a 64-bit hash of `id` into `out` as two uint32 halves: out[0] high, out[1] low. */
export type DocumentIdHash = (id: string, out: Uint32Array) => void;

export interface DocumentIdIndexOptions {
    /**
     * The id of the document whose line starts at `byteOffset`, read back from the file: called only
     * when a new id's hash equals a recorded one, to tell a duplicate from a hash collision.
     * Undefined when that line no longer holds a document (the file changed under us).
     */
    readonly idAt: (byteOffset: number) => string | undefined;
    /** Default fnv1a64Hash. Tests inject a colliding one. */
    readonly hash?: DocumentIdHash;
    /** Ids the index holds before it first grows. Default 32: a shard's re-read (32 documents by default) never grows it. */
    readonly initialCapacity?: number;
}

/** Slots in use, at most, before the slot table doubles. */
const MAX_LOAD = 0.5;
const NO_ENTRY = 0;

/**
 * The ids of a dataset seen so far, for duplicate-id detection in less memory: a Map of 1M ids
 * (strings and map entries) holds 59 MiB, while this holds 64-bit hashes and the first line and
 * byte offset of each id in typed arrays, 28 MiB for 1M ids (20 bytes an entry, plus 4-byte slots
 * at most half full). The strings are not kept; on a hash match the earlier line is
 * read back (`idAt`) and compared exactly, so a 64-bit collision costs one read, never a false
 * DUPLICATE_ID. Real matches are rare (a duplicate is an input error), so the reads are too.
 */
export class DocumentIdIndex {
    readonly #idAt: (byteOffset: number) => string | undefined;
    readonly #hash: DocumentIdHash;
    readonly #scratch = new Uint32Array(2);
    // open addressing, linear probing: slot -> entry number + 1 (0 = empty)
    #slots: Uint32Array;
    // entries in the order ids were first seen: hash halves, line and byte offset of the first use
    #hashHigh: Uint32Array;
    #hashLow: Uint32Array;
    #lines: Uint32Array;
    // doubles: byte offsets past 4 GiB stay exact up to 2^53
    #offsets: Float64Array;
    #size = 0;

    public constructor(options: DocumentIdIndexOptions) {
        this.#idAt = options.idAt;
        this.#hash = options.hash ?? fnv1a64Hash;
        const capacity = powerOfTwoAtLeast(Math.max(1, options.initialCapacity ?? 32));
        this.#slots = new Uint32Array(capacity * 2);
        this.#hashHigh = new Uint32Array(capacity);
        this.#hashLow = new Uint32Array(capacity);
        this.#lines = new Uint32Array(capacity);
        this.#offsets = new Float64Array(capacity);
    }

    /** Distinct ids recorded. */
    public get size(): number {
        return this.#size;
    }

    /**
     * Records the first use of `id` (1-based line `lineNumber`, starting at `byteOffset`). If `id` was
     * recorded before, records nothing and returns the line of its first use.
     */
    public add(id: string, lineNumber: number, byteOffset: number): number | undefined {
        if (!Number.isInteger(lineNumber) || lineNumber < 1 || lineNumber > 0xffff_ffff) throw new RangeError(`line number ${lineNumber} out of range`);
        this.#hash(id, this.#scratch);
        const high = this.#scratch[0] as number;
        const low = this.#scratch[1] as number;
        const mask = this.#slots.length - 1;
        let slot = slotOf(high, low, mask);
        for (let entryPlusOne = this.#slots[slot] as number; entryPlusOne !== NO_ENTRY; entryPlusOne = this.#slots[slot] as number) {
            const entry = entryPlusOne - 1;
            // equal hashes: the same id, or a collision; only the earlier line can tell
            if (this.#hashLow[entry] === low && this.#hashHigh[entry] === high && this.#idAt(this.#offsets[entry] as number) === id)
                return this.#lines[entry];
            slot = (slot + 1) & mask;
        }
        this.#append(high, low, lineNumber, byteOffset, slot);
        return undefined;
    }

    #append(high: number, low: number, lineNumber: number, byteOffset: number, slot: number): void {
        if (this.#size === this.#lines.length) this.#growEntries();
        const entry = this.#size++;
        this.#hashHigh[entry] = high;
        this.#hashLow[entry] = low;
        this.#lines[entry] = lineNumber;
        this.#offsets[entry] = byteOffset;
        this.#slots[slot] = entry + 1;
        if (this.#size > this.#slots.length * MAX_LOAD) this.#rehash(this.#slots.length * 2);
    }

    #growEntries(): void {
        const capacity = this.#lines.length * 2;
        this.#hashHigh = grown(this.#hashHigh, new Uint32Array(capacity));
        this.#hashLow = grown(this.#hashLow, new Uint32Array(capacity));
        this.#lines = grown(this.#lines, new Uint32Array(capacity));
        this.#offsets = grown(this.#offsets, new Float64Array(capacity));
    }

    #rehash(slotCount: number): void {
        const slots = new Uint32Array(slotCount);
        const mask = slotCount - 1;
        for (let entry = 0; entry < this.#size; entry++) {
            let slot = slotOf(this.#hashHigh[entry] as number, this.#hashLow[entry] as number, mask);
            while (slots[slot] !== NO_ENTRY) slot = (slot + 1) & mask;
            slots[slot] = entry + 1;
        }
        this.#slots = slots;
    }
}

/**
 * FNV-1a, 64-bit, over the id's UTF-16 code units, computed in two 32-bit halves (BigInt would
 * allocate per character). Not cryptographic: it only has to spread ids; equality is checked exactly.
 */
export function fnv1a64Hash(id: string, out: Uint32Array): void {
    // offset basis 0xcbf29ce484222325
    let high = 0xcbf29ce4;
    let low = 0x84222325;
    for (let i = 0; i < id.length; i++) {
        low ^= id.charCodeAt(i);
        // times the prime 2^40 + 0x1b3: low * 0x1b3 fits a double exactly (< 2^41); 2^40 shifts low into high
        const product = (low >>> 0) * 0x1b3;
        high = (Math.imul(high, 0x1b3) + Math.floor(product / 0x1_0000_0000) + (low << 8)) >>> 0;
        low = product >>> 0;
    }
    out[0] = high;
    out[1] = low;
}

function slotOf(high: number, low: number, mask: number): number {
    // the high half mixed in: FNV's low k bits depend only on the low k bits of the states before
    return (low ^ Math.imul(high, 0x9e3779b1)) & mask;
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
    to.set(from);
    return to;
}

function powerOfTwoAtLeast(n: number): number {
    let power = 1;
    while (power < n) power *= 2;
    return power;
}
