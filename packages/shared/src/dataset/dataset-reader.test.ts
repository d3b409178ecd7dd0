import assert from "node:assert/strict";
import {mkdtemp, writeFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {DEFAULT_PROMPT_TEXT, type PromptSettings} from "../prompt/reask-prompt.ts";
import {InputValidationError, loadDataset} from "./dataset-reader.ts";
import {OrchardError} from "../errors/orchard-error.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

const settings: PromptSettings = {
    promptText: DEFAULT_PROMPT_TEXT, trailingInstruction: "Positive?", useJsonPrompt: false,
    combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 10
};

async function fileWith(lines: string[]) {
    const file = join(await tempDir("orchard-ds-"), "input.jsonl");
    await writeFile(file, lines.join("\n") + "\n");
    return file;
}

async function problemsOf(lines: string[], overrides: Partial<PromptSettings> = {}) {
    const file = await fileWith(lines);
    const error = await loadDataset(file, {...settings, ...overrides}).then(() => undefined, (e: unknown) => e);
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
});
