import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {DEFAULT_MAX_LINE_BYTES, DEFAULT_PROMPT_TEXT, shardJobId, type PromptSettings, type RunSpec} from "@orchard/shared";
import {scanInput} from "./input-scanner.ts";
import {RunLayout} from "./run-layout.ts";

const prompt: PromptSettings = {
    promptText: DEFAULT_PROMPT_TEXT, trailingInstruction: "Positive?", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 4800
};
const TAPER = {divisor: 2, minimum: 1};

describe("RunLayout", () => {
    it("one layout from the record or from a scan: the same shards, job ids and inputs; each shard reads exactly its documents", async () => {
        const dir = await mkdtemp(join(tmpdir(), "orchard-layout-"));
        try {
            // three inputs, the middle one empty: global shards skip it, job ids count per input
            const sizes = [23, 0, 9];
            const inputs = [];
            for (const [n, size] of sizes.entries()) {
                const path = join(dir, `in${n}.jsonl`);
                await writeFile(path, Array.from({length: size}, (_, i) => JSON.stringify({id: `${n}-${i}`, label: i % 2, document: `text ${i}`}) + "\n").join(""));
                const scanned = await scanInput(path, prompt, 4, TAPER, DEFAULT_MAX_LINE_BYTES);
                inputs.push({scanned, input: {path, displayPath: `in${n}.jsonl`, sha256: scanned.sha256, sizeBytes: scanned.sizeBytes, documents: scanned.documents,
                    shards: scanned.shardStarts.length, output: join(dir, `in${n}.attributes.jsonl`)}});
            }
            const spec: RunSpec = {
                v: 1, runId: "layout-1", specKey: "k", createdAt: "2026-01-01T00:00:00.000Z", model: {path: "/m.gguf", fingerprint: "f", sizeBytes: 1},
                engine: {kind: "llama"}, queueName: "shards-f", inputs: inputs.map((entry) => entry.input), outputDir: dir, prompt, truncate: false,
                contextSize: 64, shardSize: 4, shardTaper: TAPER, shardAttempts: 1, retryDelayMs: 0, maxPendingShards: 1
            };
            const fromSpec = RunLayout.fromSpec(spec);
            const fromScan = RunLayout.fromScan(spec, inputs.map((entry) => entry.scanned));
            assert.equal(fromSpec.total, spec.inputs.reduce((sum, input) => sum + input.shards, 0));
            assert.equal(fromScan.total, fromSpec.total);
            const ids: string[] = [];
            for (let global = 0; global < fromScan.total; global++) {
                const shard = fromScan.shard(global);
                assert.deepEqual({...fromSpec.shard(global), start: undefined}, {...shard, start: undefined});
                assert.equal(fromScan.jobId(global), shardJobId("layout-1", shard.input, shard.local));
                assert.equal(fromSpec.jobId(global), fromScan.jobId(global));
                assert.equal(fromScan.inputOf(global), spec.inputs[shard.input]);
                ids.push(...(await fromScan.readDocuments(global)).map((prepared) => prepared.doc.id));
            }
            // every document of every input, once, in order
            assert.deepEqual(ids, sizes.flatMap((size, n) => Array.from({length: size}, (_, i) => `${n}-${i}`)));
            assert.equal(new Set(Array.from({length: fromScan.total}, (_, global) => fromScan.jobId(global))).size, fromScan.total);
            // numbers read back from Redis may name no shard
            for (const global of [-1, 1.5, fromScan.total, Number.NaN]) assert.equal(fromScan.has(global), false);
            assert.equal(fromScan.has(fromScan.total - 1), true);
        } finally {
            await rm(dir, {recursive: true, force: true});
        }
    });
});
