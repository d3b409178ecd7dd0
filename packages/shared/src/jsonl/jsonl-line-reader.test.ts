import assert from "node:assert/strict";
import {mkdtemp, writeFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {readJsonlLines} from "./jsonl-line-reader.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

async function collect(content: string | Buffer, options?: {startByte?: number; startLine?: number}) {
    const file = join(await tempDir("orchard-jsonl-"), "x.jsonl");
    await writeFile(file, content);
    const lines = [];
    for await (const line of readJsonlLines(file, options)) lines.push(line);
    return lines;
}

describe("readJsonlLines", () => {
    it("numbers lines from 1 and gives byte offsets, CRLF and a missing final newline included", async () => {
        const lines = await collect("{\"a\":1}\r\né\n\nlast");
        assert.deepEqual(lines.map((l) => l.text), ["{\"a\":1}", "é", "", "last"]);
        assert.deepEqual(lines.map((l) => l.lineNumber), [1, 2, 3, 4]);
        assert.deepEqual(lines.map((l) => l.byteOffset), [0, 9, 12, 13]);
    });
    it("joins lines split across read chunks and multi-byte characters split across them", async () => {
        const long = "ü".repeat(700_000); // 1.4 MB: crosses the 1 MiB read size mid-character
        const lines = await collect(`${long}\nshort\n`);
        assert.equal(lines.length, 2);
        assert.equal(lines[0]?.text, long);
        assert.equal(lines[1]?.byteOffset, 1_400_001);
    });
    it("hands every byte read to onChunk in order, a last line without newline included", async () => {
        const content = Buffer.from(`${"ü".repeat(700_000)}\nshort\nno newline at the end`);
        const file = join(await tempDir("orchard-jsonl-"), "x.jsonl");
        await writeFile(file, content);
        for (const startByte of [undefined, 1_400_001]) {
            const chunks: Buffer[] = [];
            let lines = 0;
            for await (const _line of readJsonlLines(file, {...(startByte === undefined ? {} : {startByte}), onChunk: (chunk) => chunks.push(Buffer.from(chunk))})) lines++;
            assert.ok(chunks.length >= (startByte === undefined ? 2 : 1));
            assert.equal(lines, startByte === undefined ? 3 : 2);
            assert.ok(Buffer.concat(chunks).equals(content.subarray(startByte ?? 0)));
        }
    });
    it("starts at a byte offset with the given line number", async () => {
        const lines = await collect("one\ntwo\nthree\n", {startByte: 4, startLine: 2});
        assert.deepEqual(lines.map((l) => [l.lineNumber, l.text]), [[2, "two"], [3, "three"]]);
    });
});
