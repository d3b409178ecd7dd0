import assert from "node:assert/strict";
import {mkdtemp, writeFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {readJsonlLines} from "./jsonl-line-reader.ts";
import {LineAtReader} from "./line-at-reader.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

describe("LineAtReader", () => {
    it("reads back every line readJsonlLines gives, at its byte offset", async () => {
        const long = "ü".repeat(100_000); // 200 KB: longer than one read
        const file = join(await tempDir("orchard-line-at-"), "x.jsonl");
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
