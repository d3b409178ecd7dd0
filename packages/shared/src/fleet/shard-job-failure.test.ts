import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {FAILURE_CODES} from "./failure-codes.ts";
import {MAX_MESSAGE_CHARS, shardFailureSchema, skippedDocumentSchema} from "./fleet-schemas.ts";
import {encodeShardJobFailure, readShardJobFailure} from "./shard-job-failure.ts";

describe("shard job failures carried as data", () => {
    it("a worker's failure reads back with its code and message, whatever the message holds", () => {
        for (const code of FAILURE_CODES) {
            const message = `[INTERNAL] not a code: a message may look like one\n{"v":1}`;
            assert.deepEqual(readShardJobFailure(encodeShardJobFailure({code, message}), 0), {code, message});
        }
    });

    it("an unknown code reads as UNKNOWN_FAILURE; a bad or unbounded reason never throws and stays within the record's schema", () => {
        assert.deepEqual(readShardJobFailure(JSON.stringify({v: 1, code: "FROM_THE_FUTURE", message: "m"}), 0), {code: "UNKNOWN_FAILURE", message: "m"});
        for (const reason of [JSON.stringify({v: 1, code: 7, message: "m"}), "{not json", JSON.stringify({v: 1, code: "ENGINE_FAILED", message: "x".repeat(MAX_MESSAGE_CHARS * 2)}),
            "\u001b[31m".repeat(MAX_MESSAGE_CHARS), undefined]) {
            const failure = readShardJobFailure(reason, 0);
            assert.ok(shardFailureSchema.safeParse({...failure, attempts: 1, at: new Date().toISOString()}).success, String(reason).slice(0, 80));
        }
    });

    it("an older worker's `[CODE] message` still reads; BullMQ's own reason is WORKER_LOST when the job stalled, else ENGINE_FAILED", () => {
        assert.deepEqual(readShardJobFailure("[ENGINE_FAILED] the engine failed", 0), {code: "ENGINE_FAILED", message: "the engine failed"});
        assert.deepEqual(readShardJobFailure("[SOMETHING_NEW] what", 0), {code: "UNKNOWN_FAILURE", message: "what"});
        assert.equal(readShardJobFailure("job stalled more than allowable limit", 2).code, "WORKER_LOST");
        assert.equal(readShardJobFailure("Missing lock for job 7", 0).code, "ENGINE_FAILED");
    });

    it("records read back keep an unknown code as UNKNOWN_FAILURE instead of failing their schema", () => {
        const skipped = skippedDocumentSchema.parse({id: "a", input: 0, index: 0, line: 1, code: "NEW_IN_V9", message: "m"});
        assert.equal(skipped.code, "UNKNOWN_FAILURE");
        assert.equal(shardFailureSchema.safeParse({code: {}, message: "m", attempts: 1, at: new Date().toISOString()}).success, false);
    });
});
