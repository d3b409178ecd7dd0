import assert from "node:assert/strict";
import {describe, it} from "node:test";
import yargs from "yargs";
import {lastFlagWins} from "./last-flag-wins.ts";

function parsed(argv: readonly string[]): Record<string, unknown> {
    return yargs(argv).parserConfiguration({"duplicate-arguments-array": false})
        .option("threads", {type: "number"}).option("ratio", {type: "number"}).option("input", {type: "string", array: true})
        .option("overwrite", {type: "boolean"}).option("name", {type: "string"}).parseSync();
}

describe("lastFlagWins", () => {
    it("works around yargs-parser adding a repeated number whose last value is 1", () => {
        // the parser bug this exists for: if it is ever fixed, the first assertion says so
        assert.equal(parsed(["--threads", "2", "--threads", "1"]).threads, 3);
        assert.equal(parsed(lastFlagWins(["--threads", "2", "--threads", "1"])).threads, 1);
        assert.equal(parsed(lastFlagWins(["--threads=4", "--threads", "1"])).threads, 1);
        assert.equal(parsed(lastFlagWins(["--threads", "1", "--threads=1"])).threads, 1);
        assert.equal(parsed(lastFlagWins(["--ratio", "0.5", "--ratio", "1"])).ratio, 1);
    });

    it("keeps repeatable flags, bare flags and everything after --", () => {
        assert.deepEqual(lastFlagWins(["--input", "a", "--input", "b", "--threads", "2", "--threads", "1"], ["input"]), ["--input", "a", "--input", "b", "--threads", "1"]);
        // a bare boolean may be followed by a positional argument: never dropped
        assert.deepEqual(lastFlagWins(["--overwrite", "run-1", "--overwrite"]), ["--overwrite", "run-1", "--overwrite"]);
        assert.deepEqual(lastFlagWins(["--threads", "2", "--", "--threads", "1"]), ["--threads", "2", "--", "--threads", "1"]);
        assert.deepEqual(lastFlagWins(["--name=a", "--name", "b"]), ["--name", "b"]);
        assert.deepEqual(lastFlagWins(["-t", "2", "--threads", "1"]), ["-t", "2", "--threads", "1"]);
    });
});
