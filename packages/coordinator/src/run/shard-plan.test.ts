import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {layoutInput, ShardPlan, ShardStartCollector} from "./shard-plan.ts";

const layout = (plan: ShardPlan) => Array.from({length: plan.total}, (_, g) => {
    const shard = plan.shard(g);
    return `${shard.input}/${shard.local}:${shard.firstDocument}+${shard.documents}`;
});

describe("ShardPlan", () => {
    it("cuts each input into shards of consecutive documents, the last one shorter", () => {
        assert.deepEqual(layout(new ShardPlan([{documents: 10}], 4)), ["0/0:0+4", "0/1:4+4", "0/2:8+2"]);
    });

    it("never puts two inputs in one shard and numbers shards across inputs in order", () => {
        const plan = new ShardPlan([{documents: 3}, {documents: 5}], 4);
        assert.equal(plan.total, 3);
        assert.deepEqual(layout(plan), ["0/0:0+3", "1/0:0+4", "1/1:4+1"]);
        assert.equal(plan.firstShardOf(1), 1);
    });

    it("skips inputs without documents", () => {
        const plan = new ShardPlan([{documents: 0}, {documents: 2}, {documents: 0}, {documents: 0}, {documents: 1}], 1);
        assert.deepEqual(layout(plan), ["1/0:0+1", "1/1:1+1", "4/0:0+1"]);
        assert.equal(plan.shardsOfInput(0), 0);
        assert.equal(plan.firstShardOf(2), 2);
    });

    it("handles shard size 1 and a shard size larger than the input", () => {
        assert.deepEqual(layout(new ShardPlan([{documents: 2}], 1)), ["0/0:0+1", "0/1:1+1"]);
        assert.deepEqual(layout(new ShardPlan([{documents: 2}], 100)), ["0/0:0+2"]);
    });

    it("carries the scanned start of each shard", () => {
        const starts = [{byteOffset: 0, lineNumber: 1, index: 0}, {byteOffset: 90, lineNumber: 4, index: 2}];
        const plan = new ShardPlan([{documents: 3, shardStarts: starts}], 2);
        assert.deepEqual(plan.shard(1).start, starts[1]);
        assert.throws(() => new ShardPlan([{documents: 3, shardStarts: starts.slice(0, 1)}], 2), RangeError);
    });

    it("rejects shard indices outside the run", () => {
        const plan = new ShardPlan([{documents: 2}], 2);
        assert.throws(() => plan.shard(1), RangeError);
        assert.throws(() => plan.shard(-1), RangeError);
    });
});

describe("ShardPlan with a taper", () => {
    const taper = {divisor: 4, minimum: 2};

    it("keeps whole shards until fewer than divisor x size documents remain, then takes 1/divisor of the rest, down to the minimum", () => {
        // 50 documents, size 8, divisor 4: the taper starts once fewer than 4 x 8 + 8 remain, after 2 whole shards
        assert.deepEqual(layoutInput(50, 8, taper), {documents: 50, fullShards: 2, tailFirsts: [16, 24, 31, 36, 40, 43, 45, 47], shards: 10});
        const plan = new ShardPlan([{documents: 50}], 8, taper);
        assert.deepEqual(layout(plan), ["0/0:0+8", "0/1:8+8", "0/2:16+8", "0/3:24+7", "0/4:31+5", "0/5:36+4", "0/6:40+3", "0/7:43+2", "0/8:45+2", "0/9:47+3"]);
    });

    it("covers every document exactly once, in order, for many sizes", () => {
        for (const documents of [0, 1, 2, 3, 7, 31, 32, 33, 100, 2047, 2048, 2049, 5000])
            for (const shardSize of [1, 2, 3, 32]) {
                const plan = new ShardPlan([{documents}, {documents: 5}], shardSize, {divisor: 64, minimum: 2});
                let next = 0;
                for (let g = 0; g < plan.shardsOfInput(0); g++) {
                    const shard = plan.shard(g);
                    assert.equal(shard.firstDocument, next, `${documents}/${shardSize}: shard ${g}`);
                    assert.ok(shard.documents >= 1 && shard.documents <= shardSize);
                    for (let d = shard.firstDocument; d < shard.firstDocument + shard.documents; d++) assert.equal(plan.shardOfDocument(0, d), g);
                    next += shard.documents;
                }
                assert.equal(next, documents);
                assert.equal(plan.documentsBefore(0, plan.shardsOfInput(0)), documents);
                assert.equal(plan.shard(plan.firstShardOf(1)).input, 1);
            }
    });

    it("shrinks the end of a large input to small shards at little cost", () => {
        const {fullShards, tailFirsts, shards} = layoutInput(1_000_000, 32, {divisor: 64, minimum: 2});
        const sizes = tailFirsts.map((first, i) => (tailFirsts[i + 1] ?? 1_000_000) - first);
        assert.equal(sizes[0], 32);
        assert.ok(sizes.at(-1) as number <= 2);
        assert.ok(shards - Math.ceil(1_000_000 / 32) < 250, `${shards - Math.ceil(1_000_000 / 32)} extra shards`);
        assert.equal(fullShards * 32 + sizes.reduce((a, b) => a + b, 0), 1_000_000);
    });

    it("collects each shard's start while the input is scanned, before its length is known", () => {
        for (const documents of [0, 1, 9, 40, 50, 51, 300])
            for (const t of [taper, undefined]) {
                const collector = new ShardStartCollector(8, t);
                const all = Array.from({length: documents}, (_, index) => ({byteOffset: index * 10, lineNumber: index + 2, index}));
                for (const start of all) collector.add(start);
                const plan = new ShardPlan([{documents, shardStarts: collector.starts()}], 8, t);
                for (let g = 0; g < plan.total; g++) assert.deepEqual(plan.shard(g).start, all[plan.shard(g).firstDocument]);
            }
    });
});
