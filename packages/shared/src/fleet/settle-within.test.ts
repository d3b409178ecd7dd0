import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {settleWithin} from "./settle-within.ts";

describe("settleWithin", () => {
    it("is true for a promise that resolves or rejects in time, and never rejects itself", async () => {
        assert.equal(await settleWithin(Promise.resolve(1), 1000), true);
        assert.equal(await settleWithin(Promise.reject(new Error("no")), 1000), true);
        assert.equal(await settleWithin(undefined, 1000), true);
    });

    it("is false for a promise that never settles, once the time is up", async () => {
        assert.equal(await settleWithin(new Promise(() => undefined), 20), false);
    });
});
