import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {parseByteRange} from "./byte-range.ts";

describe("parseByteRange", () => {
    it("reads one range of each form, clipped to the file", () => {
        assert.equal(parseByteRange(undefined, 100), undefined);
        assert.deepEqual(parseByteRange("bytes=0-9", 100), {start: 0, end: 9});
        assert.deepEqual(parseByteRange("bytes=90-", 100), {start: 90, end: 99});
        assert.deepEqual(parseByteRange("bytes=90-1000", 100), {start: 90, end: 99});
        assert.deepEqual(parseByteRange("bytes=-10", 100), {start: 90, end: 99});
        assert.deepEqual(parseByteRange("bytes=-1000", 100), {start: 0, end: 99});
        assert.deepEqual(parseByteRange("bytes=99-99", 100), {start: 99, end: 99});
    });

    it("refuses what cannot be served: past the end, reversed, malformed, several ranges, empty file", () => {
        for (const header of ["bytes=100-", "bytes=100-200", "bytes=9-3", "bytes=-0", "bytes=-", "bytes=a-b", "items=0-9", "bytes=0-9,20-29", "bytes= 0-9x"])
            assert.equal(parseByteRange(header, 100), "unsatisfiable", header);
        assert.equal(parseByteRange("bytes=-5", 0), "unsatisfiable");
        assert.equal(parseByteRange("bytes=0-", 0), "unsatisfiable");
    });
});
