import assert from "node:assert/strict";
import {describe, it} from "node:test";
import type {RunStatusReport} from "@orchard/shared";
import {LiveTerminal} from "./live-terminal.ts";
import {renderFleetStatus, renderLiveView, renderRunDetail, renderRunLine} from "./status-text.ts";
import {formatDuration, progressBar} from "./text-format.ts";

const run: RunStatusReport = {
    runId: "night-1", name: null, status: "running", health: "warning", problems: ["1 shard failed (32 documents)"], coordinator: "active",
    createdAt: "2025-06-01T05:00:00.000Z", updatedAt: null, finishedAt: null, engine: "llama",
    model: {file: "mixtral.gguf", fingerprint: "f".repeat(64), queue: "shards-ffff"}, shardSize: 32,
    documents: {total: 2000, merged: 968, missing: 32, retrying: 0, remaining: 1000}, percent: 50, shards: {total: 63, merged: 31, waiting: 2, failed: 1, retrying: 0},
    inputs: [
        {file: "a.jsonl", output: "/out/a.attributes.jsonl", documents: 1000, merged: 968, missing: 32, retrying: 0, percent: 100},
        {file: "b.jsonl", output: "/out/b.attributes.jsonl", documents: 1000, merged: 0, missing: 0, retrying: 0, percent: 0}
    ],
    throughput: {tokensPerSecond: 812.4, documentsPerSecond: 2.5, windowSeconds: 60, tokens: 270_000},
    eta: {seconds: 400, at: "2025-06-01T06:06:40.000Z"}, activeWorkers: 1,
    workers: [{
        name: "studio-1", host: "studio.lan", chip: "Apple M2 Ultra", backend: "metal", state: "busy", documents: 968, tokens: 270_000, shards: 31, failures: 3,
        tokensPerSecond: 812.4, documentsPerSecond: 2.5, lastHeartbeatAt: "2025-06-01T06:00:00.000Z", heartbeatAgeSeconds: 2, currentShards: [33]
    }],
    failedShards: [{shard: 7, input: 0, file: "a.jsonl", firstDocument: 225, documents: 32, code: "ENGINE_FAILED", message: "Metal out of memory", attempts: 3, at: "2025-06-01T05:30:00.000Z", retrying: false}],
    skippedDocuments: {count: 0, first: []},
    queue: {name: "shards-ffff", waiting: 10, active: 1, delayed: 0, prioritized: 0, failed: 1}
};

describe("terminal views", () => {
    it("the detail names every input, the rates, ETA, each worker and the failed shards", () => {
        const text = renderRunDetail(run, {width: 120});
        for (const expected of [/Run night-1 {2}running {2}● warning/, /a\.jsonl .*100\.0% {2}968\/1,000 \(32 missing\)/, /b\.jsonl .* 0\.0% {2}0\/1,000/,
            /overall .* 50\.0% {2}968\/2,000 \(32 missing\)/, /Throughput {2}812 tokens\/s, 2\.50 documents\/s/, /ETA {9}6m40s/,
            /studio-1 +studio\.lan +Apple M2 Ultra \/ metal +busy +968 +812 +2s ago +#33/, /#7 {2}a\.jsonl documents 225-256 {2}\[ENGINE_FAILED\] Metal out of memory/,
            /orchard retry-failed night-1/])
            assert.match(text, expected);
        assert.doesNotMatch(text, /\x1b\[/, "no colour unless asked");
    });

    it("the live view and the log line carry progress, tokens/s, ETA, workers and failures", () => {
        const live = renderLiveView(run, {width: 100}).join("\n");
        assert.match(live, /812 tok\/s · 2\.50 docs\/s \(last 1m00s\) · ETA 6m40s .* · 1 worker active · 1 failed shard · 32 missing/);
        assert.match(live, /studio-1 +metal +busy +812 tok\/s +968 docs +shard #33/);
        assert.equal(renderRunLine(run), "night-1: 968/2,000 documents (50.0%), 32 missing | 812 tok/s, 2.50 docs/s | ETA 6m40s (" +
            renderRunLine(run).split("ETA 6m40s (")[1]);
        assert.match(renderRunLine(run), /\| 1 workers active \| 1 failed shards \| warning: 1 shard failed/);
    });

    it("a run whose local workers are loading says it is starting them, not that it fails", () => {
        const starting: RunStatusReport = {...run, health: "starting", problems: ["starting 2 local workers (loading the model)"], activeWorkers: 0, workers: [], failedShards: [], shards: {...run.shards, failed: 0}};
        const live = renderLiveView(starting, {width: 100}).join("\n");
        assert.match(live, /night-1 {2}running {2}● starting\n/);
        assert.match(live, /… starting 2 local workers \(loading the model\)/);
        assert.doesNotMatch(live, /failing|error/);
        assert.match(renderRunLine(starting), /\| 0 workers active \| 0 failed shards \| starting 2 local workers \(loading the model\)$/);
        assert.match(renderRunDetail(starting), /Run night-1 {2}running {2}● starting/);
    });

    it("strings from Redis reach the terminal without escape sequences or control characters", () => {
        const evil = (text: string) => `${text}\x1b[2J\x1b]0;pwned\x07\r\x08\u202e`;
        const hostile: RunStatusReport = {
            ...run, problems: [evil("worker lost")],
            workers: run.workers.map((worker) => ({...worker, name: evil("studio-1"), host: evil("studio.lan"), chip: evil("M2"), backend: evil("metal")})),
            failedShards: run.failedShards.map((shard) => ({...shard, file: evil("a.jsonl"), code: "ENGINE_FAILED", message: evil("Metal out of memory")})),
            skippedDocuments: {count: 1, first: [{file: evil("a.jsonl"), line: 3, id: evil("doc-3"), code: "DOCUMENT_TOO_LONG", message: evil("too long")}]}
        };
        const texts = [
            renderRunDetail(hostile, {width: 120}), renderLiveView(hostile, {width: 100}).join("\n"), renderRunLine(hostile),
            renderFleetStatus({v: 1, generatedAt: run.createdAt, keyPrefix: "orchard", runs: [hostile], workers: []})
        ];
        for (const text of texts) {
            assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/, JSON.stringify(text));
            assert.match(text, /studio-1|night-1/);
        }
        assert.match(texts[0] as string, /studio-1 +studio\.lan +M2 +\/ metal/);
        assert.match(texts[0] as string, /\[ENGINE_FAILED\] Metal out of memory/);
        assert.match(texts[0] as string, /a\.jsonl :3 doc-3 +\[DOCUMENT_TOO_LONG\] too long/);
    });

    it("bars and durations", () => {
        assert.equal(progressBar(5, 1, 10, 10), "█████▒░░░░");
        assert.equal(progressBar(0, 0, 0, 4, true), "####");
        assert.deepEqual([0, 59.6, 61, 3600 * 5 + 60 * 7, 86_400 * 2 + 3600].map(formatDuration), ["0s", "1m00s", "1m01s", "5h07m", "2d01h"]);
    });

    it("the live terminal redraws its block in place and keeps log lines above it", () => {
        let written = "";
        const stream = {isTTY: true, columns: 40, write: (chunk: string | Buffer) => ((written += chunk.toString()), true)} as unknown as NodeJS.WriteStream;
        const terminal = new LiveTerminal(stream);
        terminal.draw(["one", "two"]);
        terminal.logStream.write("a log line\n");
        terminal.draw(["three", "x".repeat(80)]);
        assert.equal(written, "one\ntwo\n" + "\x1b[2A\r\x1b[J" + "a log line\n" + "one\ntwo\n" + "\x1b[2A\r\x1b[J" + `three\n${"x".repeat(39)}\n`);
        terminal.finish();
        terminal.draw(["ignored"]);
        assert.ok(!written.endsWith("ignored\n"));
    });

    it("the detail shows the run's numerics, its requirement and how its documents split across machines", () => {
        const text = renderRunDetail({
            ...run, numerics: {batchSize: 64, engineRoute: "three-pass", flashAttention: false, contextSize: 2048, recorded: true}, requires: {backend: "metal", chip: "M2"},
            machines: [
                {backend: "metal", chip: "Apple M2 Ultra", builds: ["3.22.1 / b6080"], documents: 900, shards: 28},
                {backend: "metal", chip: "Apple M2 Max", builds: ["3.22.1 / b6080"], documents: 68, shards: 3}
            ]
        }, {width: 120});
        for (const expected of [/Numerics {4}batch 64, three-pass, flash attention off, context 2048 \(pinned/, /Requires {4}metal, chip "M2"/, /Machines {4}2 kinds/,
            /metal +Apple M2 Ultra +3\.22\.1 \/ b6080 +900 +28/, /metal +Apple M2 Max +3\.22\.1 \/ b6080 +68 +3/])
            assert.match(text, expected);
        assert.doesNotMatch(renderRunDetail(run, {width: 120}), /Numerics|Machines/, "a status of an older coordinator has neither");
    });
});
