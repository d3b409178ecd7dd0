import assert from "node:assert/strict";
import {mkdtemp, readFile, writeFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, describe, it} from "node:test";
import {ATTRIBUTE_COUNT, DEFAULT_MAX_LINE_BYTES, formatOutputLine, loadDataset, type PromptSettings, type ShardResult} from "@orchard/shared";
import {patchOutput} from "./output-patcher.ts";
import {ShardPlan} from "./shard-plan.ts";

/** Temporary folders of this file's tests, removed when they are done. */
const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true}))));
async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

const settings: PromptSettings = {promptText: "P:", trailingInstruction: "Q?", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 100};
const attributesOf = (i: number) => Array.from({length: ATTRIBUTE_COUNT}, (_, j) => i + j / 100);

describe("patchOutput", () => {
    it("puts retried shards' documents back in input order, keeps what is there, and is idempotent", async () => {
        const dir = await tempDir("orchard-patch-");
        const input = join(dir, "in.jsonl");
        await writeFile(input, Array.from({length: 6}, (_, i) => JSON.stringify({id: `d${i}`, label: i % 2, document: `doc ${i}`})).join("\n") + "\n");
        const docs = await loadDataset(input, settings);
        const line = (i: number) => formatOutputLine(docs[i] as (typeof docs)[number], attributesOf(i), settings);
        const plan = new ShardPlan([{documents: 6}], 2);
        // shards 0 and 2 merged; shard 1 (d2, d3) failed and was retried: d2 comes back, d3 is refused
        const output = join(dir, "out.jsonl");
        await writeFile(output, [line(0), line(1), line(4), line(5)].join("\n") + "\n");
        const result: ShardResult = {
            v: 1, runId: "r-1", shard: 1, worker: "w", tokens: 10, elapsedMs: 1,
            documents: [{id: "d2", attributes: attributesOf(2)}, {id: "d3", error: {code: "DOCUMENT_TOO_LONG", message: "too long"}}]
        };
        const patch = () => patchOutput({
            plan, input: 0, inputPath: input, displayPath: "in.jsonl", outputPath: output, settings, maxLineBytes: DEFAULT_MAX_LINE_BYTES,
            patchShards: new Set([1]), resultOf: async (shard) => (shard === 1 ? result : undefined)
        });
        const first = await patch();
        const expected = [line(0), line(1), line(2), line(4), line(5)].join("\n") + "\n";
        assert.equal(await readFile(output, "utf8"), expected);
        assert.equal(first.lines, 5);
        assert.deepEqual(first.skipped.map((doc) => [doc.id, doc.line, doc.code]), [["d3", 4, "DOCUMENT_TOO_LONG"]]);
        // a crash after the rename but before Redis recorded it: patching again changes nothing
        await patch();
        assert.equal(await readFile(output, "utf8"), expected);
    });
});
