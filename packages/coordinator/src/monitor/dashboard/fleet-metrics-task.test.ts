import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {DEFAULT_GENERATION_SAMPLING, type RunSpec} from "@orchard/shared";
import {buildRunStatus} from "../status/run-status-builder.ts";
import {FleetMetrics} from "./fleet-metrics.ts";

const NOW = Date.parse("2025-06-01T06:00:00Z");

/** A finished generate run of 4 documents: 2 merged, 2 refused (a truncation and a schema failure). */
function generateRunStatus() {
    const spec: RunSpec = {
        v: 1, runId: "gen-1", specKey: "k", createdAt: new Date(NOW - 60_000).toISOString(),
        model: {path: "/models/mixtral.gguf", fingerprint: "f".repeat(64), sizeBytes: 1}, engine: {kind: "llama"}, queueName: "shards-ffff",
        inputs: [{path: "/data/a.jsonl", displayPath: "a.jsonl", sha256: "x", sizeBytes: 1, documents: 4, shards: 1, output: "/out/a.jsonl.generated.jsonl"}], outputDir: "/out",
        prompt: {promptText: "", trailingInstruction: "", useJsonPrompt: false, combinePromptAndDocument: false, dropPrompt: false, maxDocumentChars: 4800},
        task: {kind: "generate", settings: {message: {kind: "field", field: "q"}, system: "", sampling: DEFAULT_GENERATION_SAMPLING, output: {format: "generated"}}},
        truncate: false, contextSize: 4096, shardSize: 4, shardAttempts: 3, retryDelayMs: 5000, maxPendingShards: 64
    };
    return buildRunStatus({
        spec, state: {status: "incomplete", cursorShard: 1, cursorBytes: 0, mergedDocuments: 2}, updatedAt: undefined, finishedAt: undefined, waitingShards: 0,
        coordinatorActive: false, failures: new Map(), retrying: [], counters: new Map(), samples: [], queue: {waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0},
        skipped: [
            {id: "b", input: 0, index: 1, line: 2, code: "GENERATION_TRUNCATED", message: "cut"},
            {id: "d", input: 0, index: 3, line: 4, code: "JSON_INVALID", message: "bad"}
        ]
    }, new Map(), NOW);
}

describe("monitoring a generate run", () => {
    it("the status names the task and counts refused documents by code; the metrics carry both", async () => {
        const run = generateRunStatus();
        assert.equal(run.task, "generate");
        assert.deepEqual(run.skippedDocuments.byCode, {GENERATION_TRUNCATED: 1, JSON_INVALID: 1});
        const text = await new FleetMetrics().render({v: 1, generatedAt: new Date(NOW).toISOString(), keyPrefix: "orchard", runs: [run], workers: []});
        assert.match(text, /orchard_run_info\{[^}]*run="gen-1"[^}]*task="generate"[^}]*\} 1/);
        assert.match(text, /orchard_run_refused_documents\{run="gen-1",code="GENERATION_TRUNCATED"\} 1/);
        assert.match(text, /orchard_run_refused_documents\{run="gen-1",code="JSON_INVALID"\} 1/);
    });
});
