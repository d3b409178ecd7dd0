import {z} from "zod";
import {InputLineError, OrchardError} from "../errors/orchard-error.ts";
import {InputValidationError, MAX_REPORTED_INPUT_ERRORS} from "../dataset/dataset-reader.ts";
import {readJsonlLines} from "../jsonl/jsonl-line-reader.ts";

/** Longest line of a labels file, in bytes: a label display name is a few words, never a document. */
const MAX_LABEL_LINE_BYTES = 64 * 1024;

/**
 * One line of Reexpress's label display names file. Unknown keys are ignored, as in input
 * documents. Names are what the model chooses between, so an empty one is refused.
 */
export const labelLineSchema = z.object({
    label: z.number({error: (issue) => issue.input === undefined ? "missing field \"label\"" : "field \"label\" must be an integer"})
        .int({error: "field \"label\" must be an integer"})
        .nonnegative({error: "field \"label\" must not be negative"}),
    name: z.string({error: (issue) => issue.input === undefined ? "missing field \"name\"" : "field \"name\" must be a string"})
        .refine((name) => name.trim() !== "", {error: "field \"name\" must not be empty"})
});

export interface LabelEntry {
    readonly label: number;
    readonly name: string;
}

/** The classes of a classify task, sorted by label (the order of scoring and of `probabilities`). */
export interface LabelSet {
    /** The labels file as messages name it. */
    readonly file: string;
    readonly labels: readonly LabelEntry[];
}

/**
 * Reads and validates a labels file (`{"label": 0, "name": "negative"}` per line): every problem
 * is reported as `file:line: reason` (invalid JSON, missing or empty name, a label that is not a
 * non-negative integer, a duplicate label or name), then that there are at least two labels.
 */
export async function readLabelSet(file: string): Promise<LabelSet> {
    const problems: InputLineError[] = [];
    let truncated = false;
    const report = (problem: InputLineError) => {
        if (problems.length < MAX_REPORTED_INPUT_ERRORS) problems.push(problem);
        else truncated = true;
    };
    const byLabel = new Map<number, number>();
    const byName = new Map<string, number>();
    const labels: LabelEntry[] = [];
    try {
        for await (const {lineNumber, text} of readJsonlLines(file, {maxLineBytes: MAX_LABEL_LINE_BYTES, onBadLine: (bad) => report(bad.error)})) {
            if (text.trim() === "") continue;
            let value: unknown;
            try {
                value = JSON.parse(text);
            } catch (error) {
                report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, `not valid JSON (${(error as Error).message})`));
                continue;
            }
            if (typeof value !== "object" || value === null || Array.isArray(value)) {
                report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, "expected a JSON object with label and name"));
                continue;
            }
            const parsed = labelLineSchema.safeParse(value);
            if (!parsed.success) {
                report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, parsed.error.issues.map((issue) => issue.message).join("; ")));
                continue;
            }
            const {label, name} = parsed.data;
            const sameLabel = byLabel.get(label);
            if (sameLabel !== undefined) {
                report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, `duplicate label ${label} (first on line ${sameLabel})`));
                continue;
            }
            // the model answers with a name: two labels with one name could not be told apart
            const sameName = byName.get(name.trim());
            if (sameName !== undefined) {
                report(new InputLineError("INVALID_INPUT_LINE", file, lineNumber, `duplicate name ${JSON.stringify(name)} (first on line ${sameName})`));
                continue;
            }
            byLabel.set(label, lineNumber);
            byName.set(name.trim(), lineNumber);
            labels.push({label, name});
        }
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new OrchardError("INPUT_NOT_FOUND", `${file}: labels file not found`, {cause: error});
        if (code === "EISDIR") throw new OrchardError("INPUT_NOT_FOUND", `${file}: the labels file is a folder, not a file`, {cause: error});
        if (code === "EACCES") throw new OrchardError("INPUT_NOT_FOUND", `${file}: the labels file cannot be read (permission denied)`, {cause: error});
        throw error;
    }
    if (problems.length > 0) throw new InputValidationError(file, problems, truncated);
    if (labels.length < 2)
        throw new OrchardError("INVALID_ARGUMENT", `${file}: ${labels.length} label${labels.length === 1 ? "" : "s"}; a classify task needs at least 2 (one {"label": <integer>, "name": "<text>"} per line)`);
    return {file, labels: labels.sort((a, b) => a.label - b.label)};
}
