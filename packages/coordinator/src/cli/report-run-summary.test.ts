import assert from "node:assert/strict";
import {join} from "node:path";
import {describe, it} from "node:test";
import {isOrchardError} from "@orchard/shared";
import type {RunSummary} from "../run/coordinator-events.ts";
import {reportRunSummary} from "./report-run-summary.ts";

function summary(overrides: Partial<RunSummary>): RunSummary {
    return {
        runId: "demo-1", status: "completed", alreadyComplete: false, resumed: false, totalDocuments: 40, mergedDocuments: 40, missingDocuments: 0,
        missing: [], outputs: [], seconds: 6.4, ...overrides
    };
}

/** What reportRunSummary writes to stdout, and what it throws. */
function report(input: RunSummary): {stdout: string; error: unknown} {
    let stdout = "";
    const write = process.stdout.write;
    const exitCode = process.exitCode;
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
    try {
        reportRunSummary(input);
        return {stdout, error: undefined};
    } catch (error) {
        return {stdout, error};
    } finally {
        process.stdout.write = write;
        process.exitCode = exitCode;
    }
}

describe("reportRunSummary", () => {
    it("names an output outside the working directory by its absolute path, never ../..", () => {
        const outside = join("/", "tmp", "orchard-elsewhere", "out", "a.attributes.jsonl");
        const interrupted = report(summary({status: "interrupted", mergedDocuments: 8, outputs: [outside]}));
        assert.match(interrupted.stdout, /8\/40 documents merged into \/tmp\/orchard-elsewhere\/out\/a\.attributes\.jsonl\n/);
        assert.doesNotMatch(interrupted.stdout, /\.\.\//);
        const cancelled = report(summary({status: "cancelled", outputs: [outside]})).error;
        assert.ok(isOrchardError(cancelled) && cancelled.code === "RUN_CANCELLED");
        assert.match(cancelled.message, /merged into \/tmp\/orchard-elsewhere\/out\/a\.attributes\.jsonl$/);
    });

    it("names an output inside the working directory relative to it", () => {
        const done = report(summary({outputs: [join(process.cwd(), "out", "a.attributes.jsonl")]}));
        assert.match(done.stdout, /40 merged of 40 -> out\/a\.attributes\.jsonl\n/);
    });
});
