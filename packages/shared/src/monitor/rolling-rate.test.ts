import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {busyTokensPerSecond, overlapShare, rollingRate} from "./rolling-rate.ts";

const NOW = 1_000_000;
const sample = (endAgoMs: number, elapsedMs: number, tokens: number, documents = 1) => ({endMs: NOW - endAgoMs, elapsedMs, tokens, documents});

describe("rollingRate", () => {
    it("averages over the last minute, idle time included", () => {
        // 6 shards of 1,000 tokens, each 5 s, one every 10 s: 6,000 tokens in 60 s
        const samples = Array.from({length: 6}, (_, i) => sample(i * 10_000, 5_000, 1000, 10));
        const rate = rollingRate(samples, NOW);
        assert.equal(rate.windowSeconds, 60);
        assert.equal(rate.tokensPerSecond, 100);
        assert.equal(rate.documentsPerSecond, 1);
    });

    it("counts a shard that straddles the window's start in proportion", () => {
        const rate = rollingRate([sample(50_000, 20_000, 2000)], NOW, {minSamples: 0});
        // 10 of its 20 s fall within the last 60 s
        assert.equal(rate.tokensPerSecond, 1000 / 60);
    });

    it("reaches back far enough to hold the latest shards when they are slow", () => {
        // a Mac whose shards take 2 min: three of them end 0, 2 and 4 minutes ago
        const samples = [0, 120_000, 240_000].map((ago) => sample(ago, 120_000, 12_000));
        const rate = rollingRate(samples, NOW);
        assert.equal(rate.windowSeconds, 360);
        assert.equal(rate.tokensPerSecond, 100);
    });

    it("never looks back beyond maxWindowMs nor before sinceMs", () => {
        assert.equal(rollingRate([sample(0, 3_600_000, 1)], NOW).windowSeconds, 900);
        const young = rollingRate([sample(0, 5_000, 500)], NOW, {sinceMs: NOW - 10_000});
        assert.equal(young.windowSeconds, 10);
        assert.equal(young.tokensPerSecond, 50);
    });

    it("decays to zero once the work stops, and is zero without samples", () => {
        assert.equal(rollingRate([sample(16 * 60_000, 1000, 1000)], NOW).tokensPerSecond, 0);
        assert.deepEqual(rollingRate([], NOW), {tokensPerSecond: 0, documentsPerSecond: 0, windowSeconds: 60});
    });

    it("busy-time speed leaves idle time out", () => {
        assert.equal(busyTokensPerSecond([sample(0, 2000, 1000), sample(30_000, 2000, 1000)]), 500);
        assert.equal(busyTokensPerSecond([]), undefined);
    });

    it("overlapShare handles instant samples and disjoint windows", () => {
        assert.equal(overlapShare({endMs: 10, elapsedMs: 0, tokens: 1, documents: 1}, 0, 10), 1);
        assert.equal(overlapShare({endMs: 10, elapsedMs: 0, tokens: 1, documents: 1}, 10, 20), 0);
        assert.equal(overlapShare({endMs: 10, elapsedMs: 10, tokens: 1, documents: 1}, 20, 30), 0);
    });
});
