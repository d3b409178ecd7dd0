import type {ShardFailure, SkippedDocument} from "@orchard/shared";
import type {MissingDocument} from "./coordinator-events.ts";
import type {RunLayout} from "./run-layout.ts";

/** Missing documents listed in a summary, at most (the count is always exact). */
export const MAX_LISTED_MISSING = 1000;

/**
 * The documents not in the outputs, in input order: every document of each failed shard (its
 * error) and each document a worker refused. Failed shards are re-read from the input for their ids
 * and lines, so nothing per document is kept in Redis for them.
 */
export async function listMissingDocuments(layout: RunLayout, failures: ReadonlyMap<number, ShardFailure>, skipped: readonly SkippedDocument[]): Promise<{count: number; listed: MissingDocument[]}> {
    const entries: {input: number; index: number; missing: MissingDocument}[] = [];
    let count = skipped.length;
    for (const shard of [...failures.keys()].sort((a, b) => a - b)) {
        const planned = layout.shard(shard);
        count += planned.documents;
        if (entries.length >= MAX_LISTED_MISSING) continue;
        const input = layout.input(planned.input);
        const failure = failures.get(shard) as ShardFailure;
        for (const prepared of await layout.readDocuments(shard))
            entries.push({input: planned.input, index: prepared.index, missing: {id: prepared.doc.id, file: input.displayPath, line: prepared.lineNumber, code: failure.code, message: failure.message}});
    }
    for (const doc of skipped)
        entries.push({input: doc.input, index: doc.index, missing: {id: doc.id, file: layout.spec.inputs[doc.input]?.displayPath ?? "?", line: doc.line, code: doc.code, message: doc.message}});
    entries.sort((a, b) => a.input - b.input || a.index - b.index);
    return {count, listed: entries.slice(0, MAX_LISTED_MISSING).map((entry) => entry.missing)};
}
