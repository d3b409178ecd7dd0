import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {pathForDisplay} from "./path-for-display.ts";

describe("pathForDisplay", () => {
    it("keeps a relative path that stays inside the working directory as the user gave it", () => {
        assert.equal(pathForDisplay("out/a.attributes.jsonl", "/home/me/orchard"), "out/a.attributes.jsonl");
        assert.equal(pathForDisplay("./out/a.jsonl", "/home/me/orchard"), "./out/a.jsonl");
        assert.equal(pathForDisplay("out/../b.jsonl", "/home/me/orchard"), "out/../b.jsonl");
    });

    it("shows an absolute path inside the working directory relative to it", () => {
        assert.equal(pathForDisplay("/home/me/orchard/out/a.attributes.jsonl", "/home/me/orchard"), "out/a.attributes.jsonl");
        assert.equal(pathForDisplay("/home/me/orchard", "/home/me/orchard"), ".");
    });

    it("never climbs out of the working directory: such paths are absolute", () => {
        assert.equal(pathForDisplay("/tmp/run-1/out/a.attributes.jsonl", "/home/me/orchard"), "/tmp/run-1/out/a.attributes.jsonl");
        assert.equal(pathForDisplay("../../../tmp/a.jsonl", "/home/me/orchard"), "/tmp/a.jsonl");
        assert.equal(pathForDisplay("..", "/home/me/orchard"), "/home/me");
        // a sibling whose name starts with two dots is inside
        assert.equal(pathForDisplay("/home/me/orchard/..data/a.jsonl", "/home/me/orchard"), "..data/a.jsonl");
    });
});
