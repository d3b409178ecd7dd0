import {OrchardError, pathForDisplay, terminalSafeStrings} from "@orchard/shared";
import type {RunSummary} from "../run/coordinator-events.ts";

/** Missing documents printed in the error message; the rest are counted. */
const MAX_PRINTED_MISSING = 50;

/**
 * Prints how a run ended (stdout) and turns the non-successful endings into the CLI's exit codes:
 * incomplete -> RUN_INCOMPLETE (4) listing the missing documents as `file:line id [CODE] reason`;
 * interrupted -> 130 with how to resume; cancelled -> RUN_CANCELLED.
 */
export function reportRunSummary(unsafeSummary: RunSummary): void {
    // paths, ids and reasons come from the run record and the workers' results in Redis
    const summary = terminalSafeStrings(unsafeSummary);
    const outputs = summary.outputs.map((output) => pathForDisplay(output)).join(", ");
    if (summary.alreadyComplete) {
        process.stdout.write(`Run ${summary.runId} is already complete: ${summary.mergedDocuments} documents in ${outputs} (--overwrite to run it again)\n`);
        return;
    }
    if (summary.status === "cancelled")
        throw new OrchardError("RUN_CANCELLED", `run ${summary.runId} was cancelled: ${summary.mergedDocuments} of ${summary.totalDocuments} documents had been merged into ${outputs}`);
    if (summary.status === "interrupted") {
        process.stdout.write(
            `Run ${summary.runId} interrupted: ${summary.mergedDocuments}/${summary.totalDocuments} documents merged into ${outputs}\n` +
            `Resume with: orchard resume ${summary.runId}   (or run the same command again)\n`);
        process.exitCode = 130;
        return;
    }
    process.stdout.write(`Documents: ${summary.mergedDocuments} merged${summary.missingDocuments > 0 ? `, ${summary.missingDocuments} missing` : ""}` +
        ` of ${summary.totalDocuments} -> ${outputs}\nRun ${summary.runId} ${summary.status} in ${summary.seconds.toFixed(1)} s\n`);
    if (summary.status === "incomplete") {
        const lines = summary.missing.slice(0, MAX_PRINTED_MISSING).map((doc) => `  ${doc.file}:${doc.line} ${doc.id} [${doc.code}] ${doc.message}`);
        const more = summary.missingDocuments - lines.length;
        throw new OrchardError("RUN_INCOMPLETE", [
            `run ${summary.runId} finished with ${summary.missingDocuments} document${summary.missingDocuments === 1 ? "" : "s"} missing from the output:`,
            ...lines,
            ...(more > 0 ? [`  ... and ${more} more`] : []),
            `rerun failed shards with: orchard retry-failed ${summary.runId}`
        ].join("\n"), {details: {runId: summary.runId, missing: summary.missing}});
    }
}
