import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {MergeRate} from "./merge-rate.ts";

describe("MergeRate", () => {
    it("documents per second over the last minute; 0 before two samples", () => {
        const rate = new MergeRate();
        assert.equal(rate.perSecond(0), 0);
        rate.record(0, 0);
        assert.equal(rate.perSecond(0), 0);
        rate.record(100, 10_000);
        assert.equal(rate.perSecond(10_000), 10);
        // a slow minute later, the start is out of the window: only the last minute counts
        rate.record(110, 70_000);
        assert.equal(rate.perSecond(70_000), 10 / 60);
        assert.equal(rate.perSecond(200_000), 0);
    });
});
