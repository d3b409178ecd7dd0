import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {parseThroughputEntries, throughputSeries} from "./throughput-series.ts";

describe("throughput series", () => {
    it("parses stream entries, skipping malformed ones", () => {
        const samples = parseThroughputEntries([
            ["1000-0", ["w", "mac-a", "s", "3", "d", "32", "t", "9000", "e", "1500"]],
            ["1001-0", ["w", "mac-b", "s", "x", "d", "1", "t", "1", "e", "1"]],
            ["1002-0", ["s", "1", "d", "1", "t", "1", "e", "1"]],
            ["1003-0", ["w", "x".repeat(100_000), "s", "1", "d", "1", "t", "1", "e", "1"]]
        ]);
        assert.deepEqual(samples, [{id: "1000-0", worker: "mac-a", shard: 3, documents: 32, tokens: 9000, elapsedMs: 1500, endMs: 1000}]);
    });

    it("spreads each shard's tokens over the time it took, per worker, and sums them", () => {
        const sample = (worker: string, endMs: number, elapsedMs: number, tokens: number) => ({id: `${endMs}-0`, worker, shard: 0, documents: 1, tokens, elapsedMs, endMs});
        // mac-a: 4,000 tokens over 0-4 s; mac-b: 1,000 tokens over 2-3 s
        const series = throughputSeries([sample("mac-a", 4000, 4000, 4000), sample("mac-b", 3000, 1000, 1000)], {fromMs: 0, toMs: 4000, maxBuckets: 120});
        assert.equal(series.bucketMs, 1000);
        assert.equal(series.startMs, 0);
        assert.deepEqual(series.workers.map((worker) => worker.name), ["mac-a", "mac-b"]);
        assert.deepEqual(series.workers[0]?.tokensPerSecond, [1000, 1000, 1000, 1000]);
        assert.deepEqual(series.workers[1]?.tokensPerSecond, [0, 0, 1000, 0]);
        assert.deepEqual(series.total, [1000, 1000, 2000, 1000]);
    });

    it("rates the partial bucket at the right edge by the time it covers, not as a whole bucket", () => {
        const sample = (worker: string, endMs: number, elapsedMs: number, tokens: number) => ({id: `${endMs}-0`, worker, shard: 0, documents: 1, tokens, elapsedMs, endMs});
        // a steady 1,000 tokens/s from 0 to 4.5 s, the chart drawn at 4.5 s: the fifth second is half over
        const series = throughputSeries([sample("mac-a", 4500, 4500, 4500)], {fromMs: 0, toMs: 4500, maxBuckets: 120});
        assert.equal(series.bucketMs, 1000);
        assert.deepEqual(series.workers[0]?.tokensPerSecond, [1000, 1000, 1000, 1000, 1000]);
        assert.deepEqual(series.total, [1000, 1000, 1000, 1000, 1000]);
        // a range that ends on a bucket boundary has no partial bucket
        assert.deepEqual(throughputSeries([sample("mac-a", 4000, 4000, 4000)], {fromMs: 0, toMs: 4000}).total, [1000, 1000, 1000, 1000]);
    });

    it("picks a readable bucket width for long runs and keeps the bucket count bounded", () => {
        const series = throughputSeries([], {fromMs: 0, toMs: 8 * 3_600_000, maxBuckets: 120});
        assert.equal(series.bucketMs, 300_000);
        assert.ok(series.total.length <= 120 && series.total.length >= 96);
    });
});
