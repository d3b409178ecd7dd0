import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {TokenAttemptLimiter} from "./token-attempt-limiter.ts";

describe("token attempt limiter", () => {
    it("locks an address out after maxFailures within the window, for lockoutMs", () => {
        let now = 0;
        const limiter = new TokenAttemptLimiter({maxFailures: 2, windowMs: 1000, lockoutMs: 5000, now: () => now});
        limiter.fail("a", "x");
        assert.equal(limiter.lockedForMs("a"), 0);
        limiter.fail("a", "x");
        assert.equal(limiter.lockedForMs("a"), 0, "the same wrong token again is no new guess");
        limiter.fail("a", "y");
        assert.equal(limiter.lockedForMs("a"), 5000);
        assert.equal(limiter.lockedForMs("b"), 0);
        now = 4999;
        assert.equal(limiter.lockedForMs("a"), 1);
        now = 5000;
        assert.equal(limiter.lockedForMs("a"), 0);
        assert.equal(limiter.size, 0, "an address that served its time is forgotten");
    });

    it("remembers at most maxAddresses, forgetting the least recently seen", () => {
        const limiter = new TokenAttemptLimiter({maxFailures: 1, maxAddresses: 2, now: () => 0});
        limiter.fail("a", "x");
        limiter.fail("b", "x");
        limiter.fail("a", "y");
        limiter.fail("c", "x");
        assert.equal(limiter.size, 2);
        assert.ok(limiter.lockedForMs("a") > 0 && limiter.lockedForMs("c") > 0);
        assert.equal(limiter.lockedForMs("b"), 0);
    });

    it("refuses limits that are not positive integers", () => {
        assert.throws(() => new TokenAttemptLimiter({maxFailures: 0}), RangeError);
        assert.throws(() => new TokenAttemptLimiter({windowMs: Number.NaN}), RangeError);
    });
});
