import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {terminalSafe, terminalSafeStrings} from "./terminal-text.ts";

const HOSTILE = [
    "\x1b[2J", "\x1b[H", "\x1b[1;31m", "\x1b[?1049h", "\x1b]0;pwned\x07", "\x1b]52;c;ZWNobyBoaQ==\x1b\\", "\x1bP+q\x1b\\", "\x1bc", "\x1b7",
    "\x9b2J", "\x07", "\x08", "\x00", "\x7f", "\x85", "\u202e", "\u2066", "\u200f"
];

describe("terminalSafe", () => {
    it("removes escape sequences (CSI, OSC, DCS, two-byte, C1) and every control character but the layout's", () => {
        for (const sequence of HOSTILE) {
            const safe = terminalSafe(`a${sequence}b`);
            assert.equal(safe, sequence === "\x85" ? "a b" : "ab", JSON.stringify(sequence));
        }
        // an unterminated OSC swallows the rest rather than leaving half a sequence
        assert.equal(terminalSafe("name\x1b]0;title"), "name");
        assert.equal(terminalSafe("tail\x1b"), "tail");
    });

    it("turns line breaks and tabs into spaces in a one-line field, keeps them in multi-line text", () => {
        assert.equal(terminalSafe("a\r\nb\rc\td\ne"), "a b c d e");
        assert.equal(terminalSafe("a\r\nb\rc\td\ne", {multiline: true}), "a\nb\nc\td\ne");
        assert.equal(terminalSafe("ok\r\x1b[2Kfake", {multiline: true}), "ok\nfake");
    });

    it("leaves ordinary text alone: accents, CJK, emoji, symbols", () => {
        for (const text of ["studio-1.lan", "Apple M2 Ultra", "café 東京 🍎", "[ENGINE_FAILED] the engine failed on document \"review-010\"", "a\u200db"])
            assert.equal(terminalSafe(text), text);
    });

    it("cleans every string of a nested value, keys included, and leaves numbers, null and other objects", () => {
        const date = new Date(0);
        const cleaned = terminalSafeStrings({name: "w\x1b[2J", n: 3, none: null, list: ["\x07x", {deep: "\r"}], date, ["k\x1b[1m"]: true});
        assert.deepEqual(cleaned, {name: "w", n: 3, none: null, list: ["x", {deep: " "}], date, k: true});
        assert.equal(cleaned.date, date);
    });
});
