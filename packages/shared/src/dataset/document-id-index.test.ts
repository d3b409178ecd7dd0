import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {DocumentIdIndex, fnv1a64Hash, type DocumentIdHash} from "./document-id-index.ts";

/** An index over an in-memory "file": offset -> id, as readDataset's look back would read it. */
function indexWith(hash?: DocumentIdHash) {
    const idsByOffset = new Map<number, string>();
    let lookBacks = 0;
    const index = new DocumentIdIndex({
        idAt: (offset) => {
            lookBacks++;
            return idsByOffset.get(offset);
        },
        ...(hash === undefined ? {} : {hash}),
        initialCapacity: 2
    });
    let offset = 0;
    let line = 0;
    const add = (id: string) => {
        line++;
        offset += 100;
        const first = index.add(id, line, offset);
        if (first === undefined) idsByOffset.set(offset, id);
        return first;
    };
    return {index, add, lookBacks: () => lookBacks};
}

/** FNV-1a 64 over UTF-16 code units, with BigInt: the reference for the two-halves version. */
function referenceFnv(id: string): bigint {
    let hash = 0xcbf29ce484222325n;
    for (let i = 0; i < id.length; i++) hash = ((hash ^ BigInt(id.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
    return hash;
}

function ours(id: string): bigint {
    const out = new Uint32Array(2);
    fnv1a64Hash(id, out);
    return (BigInt(out[0] as number) << 32n) | BigInt(out[1] as number);
}

describe("fnv1a64Hash", () => {
    it("gives FNV-1a 64's published values for ASCII", () => {
        assert.equal(ours(""), 0xcbf29ce484222325n);
        assert.equal(ours("a"), 0xaf63dc4c8601ec8cn);
        assert.equal(ours("foobar"), 0x85944171f73967e8n);
    });

    it("matches a BigInt FNV-1a 64 over UTF-16 code units", () => {
        for (const id of ["doc-1", "é😀\u0000\uffff", "x".repeat(1000), "id-" + String(2 ** 40)])
            assert.equal(ours(id), referenceFnv(id), id);
    });
});

describe("DocumentIdIndex", () => {
    it("returns the line of an id's first use, and records nothing for a duplicate", () => {
        const {index, add} = indexWith();
        assert.equal(add("a"), undefined);
        assert.equal(add("b"), undefined);
        assert.equal(add("a"), 1);
        assert.equal(add("c"), undefined);
        assert.equal(add("a"), 1);
        assert.equal(add("c"), 4);
        assert.equal(index.size, 3);
    });

    it("finds no duplicates among many distinct ids, and every one when they come again", () => {
        const {index, add, lookBacks} = indexWith();
        const count = 100_000;
        for (let i = 0; i < count; i++) assert.equal(add(`doc-${i}`), undefined);
        assert.equal(index.size, count);
        assert.equal(lookBacks(), 0); // no 64-bit hash matched among distinct ids
        for (let i = 0; i < count; i++) assert.equal(add(`doc-${i}`), i + 1);
        assert.equal(index.size, count);
    });

    it("tells colliding ids apart by reading the earlier line back", () => {
        // every id hashes the same: each add probes past all recorded ids, each match is checked
        const {index, add, lookBacks} = indexWith((_id, out) => out.fill(7));
        for (const id of ["a", "b", "c", "d", "e"]) assert.equal(add(id), undefined);
        assert.equal(lookBacks(), 0 + 1 + 2 + 3 + 4);
        assert.equal(add("d"), 4);
        assert.equal(add("a"), 1);
        assert.equal(add("f"), undefined);
        assert.equal(index.size, 6);
    });

    it("keeps colliding ids apart across growth", () => {
        // ids collide in pairs: doc-0/doc-1, doc-2/doc-3...
        const {add} = indexWith((id, out) => {
            out[0] = 0;
            out[1] = Math.floor(Number(id.slice(4)) / 2);
        });
        for (let i = 0; i < 1000; i++) assert.equal(add(`doc-${i}`), undefined);
        for (let i = 999; i >= 0; i--) assert.equal(add(`doc-${i}`), i + 1);
    });

    it("does not report a match whose earlier line no longer holds the id", () => {
        const index = new DocumentIdIndex({idAt: () => undefined, hash: (_id, out) => out.fill(1)});
        assert.equal(index.add("a", 1, 0), undefined);
        assert.equal(index.add("a", 2, 10), undefined);
        assert.equal(index.size, 2);
    });
});
