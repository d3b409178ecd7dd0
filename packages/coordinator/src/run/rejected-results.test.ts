import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {shardFailureSchema} from "@orchard/shared";
import {RejectedResults} from "./rejected-results.ts";

describe("RejectedResults", () => {
    it("fails a shard INVALID_RESULT once its rejected results reach the attempts, per shard; a retry starts afresh", () => {
        const rejected = new RejectedResults(2);
        assert.equal(rejected.failure(4), undefined);
        rejected.reject(4, "first");
        rejected.reject(5, "other shard");
        assert.equal(rejected.failure(4), undefined);
        rejected.reject(4, "attributes.0: an attribute value is a float32");
        const failure = rejected.failure(4);
        assert.deepEqual([failure?.code, failure?.attempts], ["INVALID_RESULT", 2]);
        assert.match(failure?.message ?? "", /2 results were rejected; the last: attributes\.0/);
        // a record every reader can load back
        assert.ok(shardFailureSchema.safeParse(failure).success);
        assert.equal(rejected.failure(5), undefined);
        rejected.forget([4]);
        assert.equal(rejected.failure(4), undefined);
    });

    it("keeps the recorded reason within the failure schema's bounds", () => {
        const rejected = new RejectedResults(1);
        rejected.reject(0, "x".repeat(100_000));
        assert.ok(shardFailureSchema.safeParse(rejected.failure(0)).success);
    });
});
