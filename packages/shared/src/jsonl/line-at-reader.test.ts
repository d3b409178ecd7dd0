import assert from "node:assert/strict";
import {mkdtemp, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {readJsonlLines} from "./jsonl-line-reader.ts";
import {LineAtReader} from "./line-at-reader.ts";

describe("LineAtReader", () => {
    it("reads back every line readJsonlLines gives, at its byte offset", async () => {
        const long = "ü".repeat(100_000); // 200 KB: longer than one read
        const file = join(await mkdtemp(join(tmpdir(), "orchard-line-at-")), "x.jsonl");
        await writeFile(file, `{"a":1}\r\né\n\n${long}\nlast`);
        using reader = new LineAtReader(file);
        const lines = [];
        for await (const line of readJsonlLines(file)) lines.push(line);
        assert.equal(lines.length, 5);
        for (const line of lines.reverse()) assert.equal(reader.read(line.byteOffset), line.text);
        reader.close();
        reader.close();
        assert.equal(reader.read(0), "{\"a\":1}"); // reopens
    });
});
