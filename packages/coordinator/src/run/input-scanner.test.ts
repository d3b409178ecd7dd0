import assert from "node:assert/strict";
import {createHash} from "node:crypto";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {DEFAULT_MAX_LINE_BYTES, DEFAULT_PROMPT_TEXT, type PromptSettings} from "@orchard/shared";
import {scanInput} from "./input-scanner.ts";

const settings: PromptSettings = {
    promptText: DEFAULT_PROMPT_TEXT, trailingInstruction: "Positive?", useJsonPrompt: false,
    combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 4800
};

describe("scanInput", () => {
    const dirs: string[] = [];
    after(async () => { await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true}))); });

    it("hashes every byte of the file in the scan's pass, past 1 MiB reads and a last line without newline", async () => {
        const dir = await mkdtemp(join(tmpdir(), "orchard-scan-"));
        dirs.push(dir);
        const file = join(dir, "input.jsonl");
        const lines = [
            JSON.stringify({id: "long", label: 1, document: "ü".repeat(700_000)}),
            ...Array.from({length: 100}, (_, i) => JSON.stringify({id: `d${i}`, label: i % 2, document: `text ${i}`}))
        ];
        await writeFile(file, lines.join("\n") + "\n\n" + JSON.stringify({id: "last", label: 0, document: "no newline"}));
        const scanned = await scanInput(file, settings, 32, undefined, DEFAULT_MAX_LINE_BYTES);
        assert.equal(scanned.sha256, createHash("sha256").update(await readFile(file)).digest("hex"));
        assert.equal(scanned.documents, 102);
        assert.equal(scanned.sizeBytes, (await readFile(file)).length);
    });
});
