import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ShardPlan} from "./shard-plan.ts";

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
