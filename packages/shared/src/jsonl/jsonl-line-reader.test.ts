import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {InputLineError} from "../errors/orchard-error.ts";
import {readJsonlLines, type BadJsonlLine, type ReadJsonlLinesOptions} from "./jsonl-line-reader.ts";
import {DEFAULT_MAX_LINE_BYTES} from "./max-line-bytes.ts";

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true}))); });

async function fileOf(content: string | Buffer): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "orchard-jsonl-"));
    dirs.push(dir);
    const file = join(dir, "x.jsonl");
    await writeFile(file, content);
    return file;
}

async function collect(content: string | Buffer, options?: ReadJsonlLinesOptions) {
    const file = await fileOf(content);
    const lines = [];
    for await (const line of readJsonlLines(file, options)) lines.push(line);
    return lines;
}

/** The InputLineError a read throws (the reader is drained first). */
async function refusal(content: string | Buffer, options?: ReadJsonlLinesOptions): Promise<InputLineError> {
    const error = await collect(content, options).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof InputLineError, `expected an InputLineError, got ${String(error)}`);
    return error;
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
        const file = await fileOf(content);
        for (const startByte of [undefined, 1_400_001]) {
            const chunks: Buffer[] = [];
            let lines = 0;
            for await (const _line of readJsonlLines(file, {startByte, onChunk: (chunk) => chunks.push(Buffer.from(chunk))})) lines++;
            assert.ok(chunks.length >= (startByte === undefined ? 2 : 1));
            assert.equal(lines, startByte === undefined ? 3 : 2);
            assert.ok(Buffer.concat(chunks).equals(content.subarray(startByte ?? 0)));
        }
    });
    it("starts at a byte offset with the given line number", async () => {
        const lines = await collect("one\ntwo\nthree\n", {startByte: 4, startLine: 2});
        assert.deepEqual(lines.map((l) => [l.lineNumber, l.text]), [[2, "two"], [3, "three"]]);
    });

    describe("line length limit", () => {
        it("accepts a line of exactly the limit and refuses one a byte over, naming file, line, length and limit", async () => {
            const atLimit = "a".repeat(100);
            assert.equal((await collect(`${atLimit}\n`, {maxLineBytes: 100}))[0]?.text, atLimit);
            const error = await refusal(`${atLimit}\n${"b".repeat(101)}\nnext\n`, {maxLineBytes: 100, displayPath: "in.jsonl"});
            assert.equal(error.code, "INVALID_INPUT_LINE");
            assert.equal(error.line, 2);
            assert.match(error.message, /^in\.jsonl:2: line is 101 bytes, the limit is 100\b/);
        });
        it("counts a too-long line to its end across read chunks, and goes on after it when asked to", async () => {
            // 3 MB over a 1 KiB limit: spans three 1 MiB reads; a last line without newline is checked too
            const content = `short\n${"x".repeat(3_000_000)}\nafter\n${"y".repeat(2000)}`;
            const bad: BadJsonlLine[] = [];
            const lines = await collect(content, {maxLineBytes: 1024, onBadLine: (line) => bad.push(line)});
            assert.deepEqual(lines.map((l) => [l.lineNumber, l.byteOffset, l.text]), [[1, 0, "short"], [3, 3_000_007, "after"]]);
            assert.deepEqual(bad.map((b) => [b.lineNumber, b.byteOffset, b.byteLength, b.terminated]), [[2, 6, 3_000_000, true], [4, 3_000_013, 2000, false]]);
            assert.match(bad[0]?.error.message ?? "", /:2: line is 3000000 bytes, the limit is 1024\b/);
        });
        it("refuses a line over the default 8 MiB without being told a limit", async () => {
            const error = await refusal(`{"id":"a"}\n${"z".repeat(9_000_000)}\n`);
            assert.match(error.message, new RegExp(`:2: line is 9000000 bytes, the limit is ${DEFAULT_MAX_LINE_BYTES}\\b`));
        });
        it("a file of NUL bytes without a newline is one line over the limit, not an empty file", async () => {
            const error = await refusal(Buffer.alloc(5000), {maxLineBytes: 4096});
            assert.match(error.message, /:1: line is 5000 bytes, the limit is 4096\b/);
            // under the limit it is a line like any other (not JSON: the dataset reader says so)
            assert.deepEqual((await collect(Buffer.alloc(10))).map((l) => l.text.length), [10]);
        });
    });

    describe("UTF-8", () => {
        const cases: [string, Buffer, number][] = [
            ["a byte that starts nothing", Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 2],
            ["a sequence cut short", Buffer.concat([Buffer.from("ab"), Buffer.from([0xc3]), Buffer.from("z")]), 2],
            ["an overlong form", Buffer.concat([Buffer.from("é"), Buffer.from([0xc0, 0x80])]), 2],
            ["an encoded surrogate", Buffer.concat([Buffer.from("x"), Buffer.from([0xed, 0xa0, 0x80])]), 1],
            ["a code point past U+10FFFF", Buffer.from([0xf4, 0x90, 0x80, 0x80]), 0]
        ];
        for (const [name, line, at] of cases) {
            it(`refuses ${name}, naming the byte in the line and in the file`, async () => {
                const error = await refusal(Buffer.concat([Buffer.from("{}\n"), line, Buffer.from("\n")]), {displayPath: "in.jsonl"});
                assert.equal(error.line, 2);
                assert.match(error.message, new RegExp(`^in\\.jsonl:2: not valid UTF-8 at byte ${at} of the line \\(byte ${3 + at} of the file\\)`));
            });
        }
        it("skips a BOM at byte 0 of the file, and only there", async () => {
            const bom = Buffer.from([0xef, 0xbb, 0xbf]);
            const lines = await collect(Buffer.concat([bom, Buffer.from("{\"a\":1}\n"), bom, Buffer.from("{}\n")]));
            assert.deepEqual(lines.map((l) => [l.byteOffset, l.text]), [[3, "{\"a\":1}"], [11, "\ufeff{}"]]);
            // read from a later offset, a BOM is part of the line
            const file = await fileOf(Buffer.concat([Buffer.from("{}\n"), bom, Buffer.from("x\n")]));
            const later = [];
            for await (const line of readJsonlLines(file, {startByte: 3, startLine: 2})) later.push(line.text);
            assert.deepEqual(later, ["\ufeffx"]);
        });
    });
});
