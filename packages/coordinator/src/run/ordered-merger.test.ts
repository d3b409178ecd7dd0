import assert from "node:assert/strict";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {after, describe, it} from "node:test";
import {OrchardError} from "@orchard/shared";
import {OrderedMerger} from "./ordered-merger.ts";
import {ShardPlan} from "./shard-plan.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

async function outputsIn(count: number) {
    const dir = await tempDir("orchard-merger-");
    return Array.from({length: count}, (_, i) => join(dir, `out${i}.jsonl`));
}

const read = (path: string) => readFile(path, "utf8");

describe("OrderedMerger", () => {
    // input 0: 3 documents in shards of 2 -> shards 0, 1; input 1: none; input 2: 1 document -> shard 2
    const plan = new ShardPlan([{documents: 3}, {documents: 0}, {documents: 1}], 2);

    it("writes each input's output in shard order and returns durable cursors", async () => {
        const outputs = await outputsIn(3);
        await using merger = await OrderedMerger.open(plan, outputs, {shard: 0, bytes: 0});
        await merger.append(plan.shard(0), ["a", "b"]);
        assert.deepEqual(await merger.flush(), {shard: 1, bytes: 4});
        await merger.append(plan.shard(1), ["c"]);
        // the next shard is in another input: its output starts at 0
        assert.deepEqual(await merger.flush(), {shard: 2, bytes: 0});
        await merger.append(plan.shard(2), ["d"]);
        assert.deepEqual(await merger.flush(), {shard: 3, bytes: 0});
        assert.equal(await read(outputs[0] as string), "a\nb\nc\n");
        assert.equal(await read(outputs[1] as string), "", "an input without documents gets an empty output");
        assert.equal(await read(outputs[2] as string), "d\n");
    });

    it("cuts what was written after the recorded cursor (a crash before the record) and goes on from there", async () => {
        const outputs = await outputsIn(3);
        await writeFile(outputs[0] as string, "a\nb\nc\n{\"torn");
        await using merger = await OrderedMerger.open(plan, outputs, {shard: 1, bytes: 4});
        assert.equal(await read(outputs[0] as string), "a\nb\n");
        await merger.append(plan.shard(1), ["c"]);
        await merger.append(plan.shard(2), ["d"]);
        await merger.flush();
        assert.equal(await read(outputs[0] as string), "a\nb\nc\n");
        assert.equal(await read(outputs[2] as string), "d\n");
    });

    it("passes over a failed shard, writing nothing for it", async () => {
        const outputs = await outputsIn(3);
        await using merger = await OrderedMerger.open(plan, outputs, {shard: 0, bytes: 0});
        await merger.skip(plan.shard(0));
        await merger.append(plan.shard(1), ["c"]);
        assert.deepEqual(await merger.flush(), {shard: 2, bytes: 0});
        assert.equal(await read(outputs[0] as string), "c\n");
    });

    it("refuses an output shorter than the recorded cursor, and merges out of order", async () => {
        const outputs = await outputsIn(3);
        await writeFile(outputs[0] as string, "a\n");
        await assert.rejects(OrderedMerger.open(plan, outputs, {shard: 1, bytes: 4}), (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_MISMATCH");
        await using merger = await OrderedMerger.open(plan, outputs, {shard: 0, bytes: 0});
        await assert.rejects(merger.append(plan.shard(1), ["c"]), (error: unknown) => error instanceof OrchardError && error.code === "INTERNAL");
    });

    it("refuses a recorded cursor no merge could have written (read back from Redis), cutting nothing", async () => {
        const outputs = await outputsIn(3);
        try {
            await writeFile(outputs[0] as string, "a\nb\nc\n");
            const mismatch = (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_MISMATCH";
            for (const cursor of [{shard: 1, bytes: 3}, {shard: 0, bytes: 2}, {shard: 4, bytes: 0}, {shard: 3, bytes: 2}, {shard: 1, bytes: -1}])
                await assert.rejects(OrderedMerger.open(plan, outputs, cursor), mismatch, JSON.stringify(cursor));
            assert.equal(await read(outputs[0] as string), "a\nb\nc\n");
        } finally {
            await rm(dirname(outputs[0] as string), {recursive: true, force: true});
        }
    });

    it("merges companion outputs in lockstep and, on open, cuts each back to the lines the main output's cursor holds", async () => {
        const outputs = await outputsIn(3);
        const companions = outputs.map((output) => [output.replace(/\.jsonl$/, ".extra.jsonl")]);
        const companion = (companions[0] as string[])[0] as string;
        {
            await using merger = await OrderedMerger.open(plan, outputs, {shard: 0, bytes: 0}, companions);
            await merger.append(plan.shard(0), ["a", "b"], [["A", "B"]]);
            assert.deepEqual(await merger.flush(), {shard: 1, bytes: 4});
        }
        // a crash after shard 1's lines reached the companion (and half the main output) but before the cursor moved
        await writeFile(companion, "A\nB\nC\n");
        await writeFile(outputs[0] as string, "a\nb\n{\"to");
        {
            await using merger = await OrderedMerger.open(plan, outputs, {shard: 1, bytes: 4}, companions);
            assert.equal(await read(companion), "A\nB\n");
            assert.equal(await read(outputs[0] as string), "a\nb\n");
            await merger.append(plan.shard(1), ["c"], [["C"]]);
            await merger.append(plan.shard(2), ["d"], [["D"]]);
            assert.deepEqual(await merger.flush(), {shard: 3, bytes: 0});
        }
        assert.equal(await read(outputs[0] as string), "a\nb\nc\n");
        assert.equal(await read(companion), "A\nB\nC\n");
        assert.equal(await read((companions[1] as string[])[0] as string), "", "an input without documents gets empty outputs, companions included");
        assert.equal(await read((companions[2] as string[])[0] as string), "D\n");
        // a companion with fewer lines than the cursor holds was changed since: refused, nothing cut
        await writeFile(companion, "A\n");
        await assert.rejects(OrderedMerger.open(plan, outputs, {shard: 1, bytes: 4}, companions), (error: unknown) => error instanceof OrchardError && error.code === "OUTPUT_MISMATCH");
        assert.equal(await read(outputs[0] as string), "a\nb\nc\n");
    });
});
