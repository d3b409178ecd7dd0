import assert from "node:assert/strict";
import {access, readFile, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {before, describe, it} from "node:test";
import {ATTRIBUTE_COUNT} from "@orchard/shared";
import {FAST_ENGINE_FLAGS, runOrchard, tempDir, tinyModel, writeJsonl, type CliResult} from "./support/orchard-cli.ts";

// `orchard generate` on the tiny synthetic Mixtral: random weights, so only the JSON-schema grammar
// makes a completion valid JSON, and only the per-document seed makes it reproducible.

const LABELS = [
    {id: "r1", label: 1, name: "positive", topic: "a heist film"},
    {id: "r2", label: 0, name: "negative", topic: "a musical"},
    {id: "r3", label: 1, name: "positive", topic: "a space opera"},
    {id: "r4", label: 0, name: "negative", topic: "a courtroom drama"},
    {id: "r5", label: 1, name: "positive", topic: "a documentary"},
    {id: "r6", label: 0, name: "negative", topic: "a western"}
];
const SCHEMA = {
    type: "object",
    properties: {
        sentiment: {enum: ["positive", "negative"]},
        spoilers: {type: "boolean"},
        review: {type: "string", maxLength: 24}
    }
};
const TEMPLATE = "Write a {name} review of {topic}.";
// generation flags shared by every run (the extract engine's flags minus --contexts/--engine-route)
const ENGINE = ["--threads", "2", "--gpu", "false", "--context-size", "1024", "--log-format", "json"];

let model: string;
let dir: string;
let input: string;
let schema: string;
let reference: string; // the labelled input's output with the schema, from a clean run

const generate = (inputPath: string, output: string, ...extra: string[]) =>
    runOrchard(["generate", "--model", model, "--input", inputPath, "--output", output, ...ENGINE, ...extra]);
const withSchema = (inputPath: string, output: string, ...extra: string[]) =>
    generate(inputPath, output, "--template", TEMPLATE, "--json-schema", schema, "--max-tokens", "96", "--seed", "7", ...extra);
const linesOf = (text: string) => text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

function assertExit(result: CliResult, code: number) {
    assert.equal(result.code, code, `expected exit code ${code}, got ${result.code}\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
}

async function missing(path: string) {
    return access(path).then(() => false, () => true);
}

describe("orchard generate", () => {
    before(async () => {
        model = await tinyModel();
        dir = await tempDir();
        input = await writeJsonl(join(dir, "labels.jsonl"), LABELS);
        schema = join(dir, "review.schema.json");
        await writeFile(schema, JSON.stringify(SCHEMA));
        const output = join(dir, "labels.jsonl.generated.jsonl");
        const result = await withSchema(input, output);
        assertExit(result, 0);
        reference = await readFile(output, "utf8");
    });

    it("writes schema-valid JSON on every line, after the input's fields, in input order", () => {
        const lines = linesOf(reference);
        assert.deepEqual(lines.map((line) => line["id"]), LABELS.map((row) => row.id));
        for (const [i, line] of lines.entries()) {
            assert.deepEqual(Object.keys(line), ["id", "label", "name", "topic", "completion", "json", "finish", "tokens"]);
            assert.deepEqual({id: line["id"], label: line["label"], name: line["name"], topic: line["topic"]}, LABELS[i]);
            const json = line["json"] as Record<string, unknown>;
            assert.deepEqual(JSON.parse(line["completion"] as string), json, "json is the parsed completion");
            assert.deepEqual(Object.keys(json).sort(), ["review", "sentiment", "spoilers"]);
            assert.ok(json["sentiment"] === "positive" || json["sentiment"] === "negative");
            assert.equal(typeof json["spoilers"], "boolean");
            assert.ok(typeof json["review"] === "string" && json["review"].length <= 24);
            assert.equal(line["finish"], "stop");
            const tokens = line["tokens"] as {prompt: number; completion: number};
            assert.ok(Number.isInteger(tokens.prompt) && tokens.prompt > 0 && Number.isInteger(tokens.completion) && tokens.completion > 0);
        }
        // sampled, not one fixed string: documents differ
        assert.ok(new Set(lines.map((line) => line["completion"])).size > 1);
    });

    it("is deterministic, and a document's completion depends on its id, not its position", async () => {
        const again = join(dir, "again.jsonl");
        assertExit(await withSchema(input, again), 0);
        assert.equal(await readFile(again, "utf8"), reference);

        const reversedInput = await writeJsonl(join(dir, "reversed.jsonl"), [...LABELS].reverse());
        const reversed = join(dir, "reversed.out.jsonl");
        assertExit(await withSchema(reversedInput, reversed), 0);
        const byId = new Map(linesOf(await readFile(reversed, "utf8")).map((line) => [line["id"], line]));
        for (const line of linesOf(reference)) assert.deepEqual(byId.get(line["id"]), line);
    });

    it("reports a JSON value cut by --max-tokens with its code and file:line id, writes the others whole, exits 4", async () => {
        const lines = linesOf(reference);
        const counts = lines.map((line) => (line["tokens"] as {completion: number}).completion);
        // the budget of the shortest completion: that one closes its JSON within it (same seed, same
        // tokens), the longest ones (a longer review) do not
        const maxTokens = Math.min(...counts);
        assert.ok(Math.max(...counts) > maxTokens + 4, `completions of ${counts.join(", ")} tokens: too alike for this test`);
        const output = join(dir, "truncated.jsonl");
        const result = await generate(input, output, "--template", TEMPLATE, "--json-schema", schema, "--max-tokens", String(maxTokens), "--seed", "7");
        assertExit(result, 4);
        assert.match(result.stderr, /\[RUN_INCOMPLETE\]/);
        const text = await readFile(output, "utf8");
        const written = text === "" ? [] : linesOf(text);
        const writtenIds = new Set(written.map((line) => line["id"]));
        for (const [i, row] of LABELS.entries()) {
            const reported = result.stderr.includes(`labels.jsonl:${i + 1} id "${row.id}": [GENERATION_TRUNCATED]`);
            assert.notEqual(reported, writtenIds.has(row.id), `${row.id} is either written or reported, never both or neither`);
        }
        assert.ok(writtenIds.size < LABELS.length, "the longest completion was reported");
        assert.ok(writtenIds.has(lines[counts.indexOf(maxTokens)]?.["id"]), "the shortest completion was written");
        // every written line holds the completion the unconstrained run wrote, whole (same seed, same tokens)
        const referenceById = new Map(lines.map((line) => [line["id"], line]));
        for (const line of written) {
            assert.equal(line["completion"], referenceById.get(line["id"])?.["completion"]);
            assert.deepEqual(line["json"], referenceById.get(line["id"])?.["json"]);
        }

        // re-running resumes over the gaps the failures left (no OUTPUT_MISMATCH): it continues after
        // the last line written, where the same documents fail the same way, and leaves the lines as they are
        const again = await generate(input, output, "--template", TEMPLATE, "--json-schema", schema, "--max-tokens", String(maxTokens), "--seed", "7");
        const lastWritten = Math.max(...LABELS.map((row, i) => (writtenIds.has(row.id) ? i : -1)));
        assertExit(again, lastWritten === LABELS.length - 1 ? 0 : 4);
        assert.equal(await readFile(output, "utf8"), text);
    });

    it("refuses a --template field a line lacks, naming file:line, before anything is written", async () => {
        const bad = await writeJsonl(join(dir, "bad.jsonl"), [LABELS[0], {id: "r2", label: 0, name: "negative"}]);
        const output = join(dir, "bad.out.jsonl");
        const result = await generate(bad, output, "--template", TEMPLATE);
        assertExit(result, 1);
        assert.match(result.stderr, /bad\.jsonl:2: .*\{topic\}.*"topic"/);
        assert.ok(await missing(output), "no output for a bad input");
    });

    it("resumes after the last complete line, repairing a torn one, to the bytes of an uninterrupted run", async () => {
        const output = join(dir, "resumed.jsonl");
        const lines = reference.split("\n");
        await writeFile(output, lines.slice(0, 2).join("\n") + "\n" + (lines[2] as string).slice(0, 30));
        const result = await withSchema(input, output);
        assertExit(result, 0);
        assert.match(result.stdout, /Documents: 4 generated \(after 2 already done, 6 in all\)/);
        assert.equal(await readFile(output, "utf8"), reference);

        // a document that failed leaves a gap (its line is absent): resuming goes on after the last line, not refusing the output
        const gapped = join(dir, "gapped.jsonl");
        const withGap = lines.filter((_, i) => i !== 2).join("\n");
        await writeFile(gapped, withGap);
        const overGap = await withSchema(input, gapped);
        assertExit(overGap, 0);
        assert.match(overGap.stdout, /Documents: 0 generated \(after 6 already done, 6 in all\)/);
        assert.equal(await readFile(gapped, "utf8"), withGap);

        // another input's output is not taken for this one's
        const other = await writeJsonl(join(dir, "other.jsonl"), LABELS.map((row) => ({...row, topic: "a sequel"})));
        assertExit(await withSchema(other, output), 1);
        assert.equal(await readFile(output, "utf8"), reference, "a refused output is left as it was");
    });

    it("--output-format reexpress writes id, label, document lines that orchard extract reads", async () => {
        const output = join(dir, "reviews.jsonl");
        const result = await withSchema(input, output, "--output-format", "reexpress", "--document-from", "json.review", "--label-from", "label");
        assertExit(result, 0);
        const reexpress = linesOf(await readFile(output, "utf8"));
        const generated = linesOf(reference);
        assert.deepEqual(reexpress, generated.map((line) => ({id: line["id"], label: line["label"], document: (line["json"] as {review: string}).review})));

        const attributes = join(dir, "reviews.jsonl.attributes.jsonl");
        const extracted = await runOrchard(["extract", "--model", model, "--input", output, "--output", attributes, ...FAST_ENGINE_FLAGS]);
        assertExit(extracted, 0);
        const extractedLines = linesOf(await readFile(attributes, "utf8"));
        assert.deepEqual(extractedLines.map((line) => [line["id"], line["label"]]), reexpress.map((line) => [line["id"], line["label"]]));
        assert.ok(extractedLines.every((line) => (line["attributes"] as number[]).length === ATTRIBUTE_COUNT));
    });
});
