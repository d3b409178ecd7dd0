import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {RequestQueue} from "./request-queue.ts";

describe("playground request queue", () => {
    it("runs tasks one at a time in arrival order and reports each waiting task's position", async () => {
        const queue = new RequestQueue();
        const order: string[] = [];
        let releaseFirst = () => {};
        const first = queue.run("a", () => new Promise<void>((resolve) => {
            order.push("a");
            releaseFirst = resolve;
        }));
        const second = queue.run("b", async () => void order.push("b"));
        const third = queue.run("c", async () => void order.push("c"));
        await Promise.resolve();
        assert.deepEqual([queue.positionOf("a"), queue.positionOf("b"), queue.positionOf("c"), queue.positionOf("x")], [0, 1, 2, undefined]);
        assert.equal(queue.waiting, 2);
        releaseFirst();
        await Promise.all([first, second, third]);
        assert.deepEqual(order, ["a", "b", "c"]);
        assert.equal(queue.busy, false);
    });

    it("a failing task passes its error on and lets the next one run", async () => {
        const queue = new RequestQueue();
        const failing = queue.run("a", async () => {
            throw new Error("boom");
        });
        const next = queue.run("b", async () => 42);
        await assert.rejects(failing, /boom/);
        assert.equal(await next, 42);
    });
});
