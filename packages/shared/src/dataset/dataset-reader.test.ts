import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {DEFAULT_PROMPT_TEXT, type PromptSettings} from "../prompt/reask-prompt.ts";
import {InputValidationError, loadDataset, readDataset} from "./dataset-reader.ts";
import {OrchardError} from "../errors/orchard-error.ts";

const settings: PromptSettings = {
    promptText: DEFAULT_PROMPT_TEXT, trailingInstruction: "Positive?", useJsonPrompt: false,
    combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 10
};

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true}))); });

async function fileWith(lines: (string | Buffer)[], end: string = "\n") {
    const dir = await mkdtemp(join(tmpdir(), "orchard-ds-"));
    dirs.push(dir);
    const file = join(dir, "input.jsonl");
    await writeFile(file, Buffer.concat([...lines.flatMap((line) => [Buffer.from(line), Buffer.from("\n")]).slice(0, -1), Buffer.from(end)]));
    return file;
}

async function readAll(file: string, overrides: Partial<PromptSettings> = {}, maxLineBytes?: number) {
    const documents = [];
    for await (const document of readDataset(file, {...settings, ...overrides}, undefined, {maxLineBytes})) documents.push(document);
    return documents;
}

async function problemsOf(lines: (string | Buffer)[], overrides: Partial<PromptSettings> = {}, maxLineBytes?: number) {
    const file = await fileWith(lines);
    const error = await readAll(file, overrides, maxLineBytes).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof InputValidationError, `expected an InputValidationError, got ${String(error)}`);
    return {file, error, reasons: error.problems.map((p) => `${p.line}: ${p.reason}`)};
}

const ok = (id: string, extra: object = {}) => JSON.stringify({id, label: 1, document: "  text of " + id + "  ", ...extra});

describe("readDataset", () => {
    it("prepares documents in order: stripped, cut to the maximum, blank lines skipped", async () => {
        const file = await fileWith([ok("a"), "", "   ", JSON.stringify({id: "b", label: 0, document: "\u00a0é😀" + "x".repeat(20), info: "i", group: "g"})]);
        const docs = await loadDataset(file, settings);
        assert.deepEqual(docs.map((d) => [d.index, d.lineNumber, d.doc.id, d.documentText]), [
            [0, 1, "a", "text of a"],
            [1, 4, "b", "é😀xxxxxxxx"]
        ]);
        assert.equal(docs[1]?.doc.info, "i");
        assert.equal(docs[0]?.promptText, DEFAULT_PROMPT_TEXT);
    });

    it("names file and line for a line that is not JSON", async () => {
        const {file, error, reasons} = await problemsOf([ok("a"), "{not json"]);
        assert.match(reasons[0] ?? "", /^2: not valid JSON/);
        assert.ok(error.message.includes(`${file}:2: not valid JSON`));
        assert.equal(error.code, "INVALID_INPUT_LINE");
    });

    it("reports missing and mistyped fields", async () => {
        const {reasons} = await problemsOf([
            JSON.stringify({label: 1, document: "x"}),
            JSON.stringify({id: 5, label: 1, document: "x"}),
            JSON.stringify({id: "c", label: 1.5, document: "x"}),
            JSON.stringify({id: "d", label: "1", document: "x"}),
            JSON.stringify({id: "e", label: 1}),
            JSON.stringify({id: "f", label: 1, document: "x", info: 3}),
            "[1, 2]"
        ]);
        assert.deepEqual(reasons, [
            "1: missing field \"id\"",
            "2: field \"id\" must be a string",
            "3: field \"label\" must be an integer",
            "4: field \"label\" must be an integer",
            "5: missing field \"document\"",
            "6: field \"info\" must be a string",
            "7: expected a JSON object with id, label and document"
        ]);
    });

    it("reports a duplicate id with the line of its first use", async () => {
        const {error, reasons} = await problemsOf([ok("a"), ok("b"), ok("a")]);
        assert.deepEqual(reasons, ["3: duplicate id \"a\" (first seen on line 1)"]);
        assert.equal(error.code, "DUPLICATE_ID");
    });

    it("reports every duplicate with its first line, that line long and ending in CRLF", async () => {
        const long = JSON.stringify({id: "é1", label: 1, document: "ü".repeat(100_000)}) + "\r";
        const {reasons} = await problemsOf([ok("a"), long, "", ok("b"), ok("é1"), ok("a"), ok("é1")]);
        assert.deepEqual(reasons, [
            "5: duplicate id \"é1\" (first seen on line 2)",
            "6: duplicate id \"a\" (first seen on line 1)",
            "7: duplicate id \"é1\" (first seen on line 2)"
        ]);
    });

    it("requires a prompt field on every line with --use-json-prompt", async () => {
        const {reasons} = await problemsOf([ok("a", {prompt: "Classify:"}), ok("b"), ok("c", {prompt: "  "})], {useJsonPrompt: true});
        assert.equal(reasons.length, 2);
        assert.match(reasons[0] ?? "", /^2: --use-json-prompt is set but the line has no non-empty "prompt" field/);
        assert.match(reasons[1] ?? "", /^3: /);
    });

    it("uses each line's prompt with --use-json-prompt", async () => {
        const docs = await loadDataset(await fileWith([ok("a", {prompt: "Mine:"})]), {...settings, useJsonPrompt: true});
        assert.equal(docs[0]?.promptText, "Mine:");
    });

    it("says when the input file does not exist", async () => {
        await assert.rejects(loadDataset("/nonexistent/input.jsonl", settings),
            (error: unknown) => error instanceof OrchardError && error.code === "INPUT_NOT_FOUND" && error.message.includes("/nonexistent/input.jsonl"));
    });

    it("reports a line over --max-line-bytes with the other problems, and validates on past it", async () => {
        const long = ok("b", {document: "x".repeat(200)});
        const {error, reasons} = await problemsOf([ok("a"), long, "{not json", ok("a")], {}, 100);
        assert.equal(reasons.length, 3);
        assert.match(reasons[0] ?? "", new RegExp(`^2: line is ${Buffer.byteLength(long)} bytes, the limit is 100\\b`));
        assert.match(reasons[1] ?? "", /^3: not valid JSON/);
        assert.equal(reasons[2], "4: duplicate id \"a\" (first seen on line 1)");
        assert.equal(error.code, "INVALID_INPUT_LINE");
    });

    it("a NUL-only file without a newline is an error, never 0 documents", async () => {
        const over = await problemsOf([Buffer.alloc(300)], {}, 200);
        assert.equal(over.reasons.length, 1);
        assert.match(over.reasons[0] ?? "", /^1: line is 300 bytes, the limit is 200\b/);
        const under = await problemsOf([Buffer.alloc(100)], {}, 200);
        assert.match(under.reasons[0] ?? "", /^1: not valid JSON/);
        // content without a final newline still counts as its last line
        assert.deepEqual((await readAll(await fileWith([ok("a"), ok("b")], ""))).map((d) => d.doc.id), ["a", "b"]);
    });

    it("two ids that differ only in invalid UTF-8 are two errors naming the byte, not one duplicate", async () => {
        const withByte = (byte: number) => Buffer.concat([Buffer.from("{\"id\":\"x"), Buffer.from([byte]), Buffer.from("\",\"label\":1,\"document\":\"d\"}")]);
        const {reasons} = await problemsOf([withByte(0xfe), withByte(0xff)]);
        assert.deepEqual(reasons, [
            "1: not valid UTF-8 at byte 8 of the line (byte 8 of the file)",
            `2: not valid UTF-8 at byte 8 of the line (byte ${withByte(0).length + 1 + 8} of the file)`
        ]);
    });

    it("accepts a file that starts with a UTF-8 BOM, its first document read from after it", async () => {
        const {reasons} = await problemsOf([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ok("a"))]), ok("b"), ok("a")]);
        assert.deepEqual(reasons, ["3: duplicate id \"a\" (first seen on line 1)"]); // the BOM is not part of the first id
        const clean = await fileWith([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ok("a"))]), ok("b")]);
        const docs = await readAll(clean);
        assert.deepEqual(docs.map((d) => [d.lineNumber, d.byteOffset, d.doc.id]), [[1, 3, "a"], [2, 3 + ok("a").length + 1, "b"]]);
    });
});
