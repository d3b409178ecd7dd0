import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {codePointLength, pythonStrip, takeCodePoints} from "./python-strip.ts";

describe("pythonStrip", () => {
    it("strips what Python's str.strip() strips", () => {
        assert.equal(pythonStrip(" \t\n\r\x0b\x0c\u00a0\u3000 text \u2029\x1c"), "text");
        assert.equal(pythonStrip("\u0085a\u0085"), "a");
    });
    it("keeps what Python keeps (unlike String.prototype.trim)", () => {
        assert.equal(pythonStrip("\ufeffa\ufeff"), "\ufeffa\ufeff");
        assert.equal(pythonStrip("\u200ba"), "\u200ba");
        assert.equal(pythonStrip("  a b  "), "a b");
    });
});

describe("takeCodePoints", () => {
    it("counts code points like Python slicing, never splitting a surrogate pair", () => {
        assert.equal(takeCodePoints("😀😀😀", 2), "😀😀");
        assert.equal(codePointLength("😀😀😀"), 3);
        assert.equal(takeCodePoints("abc", 5), "abc");
        assert.equal(takeCodePoints("héllo", 2), "hé");
    });
});
