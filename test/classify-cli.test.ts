import assert from "node:assert/strict";
import {access, readFile, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {before, describe, it} from "node:test";
import {ATTRIBUTE_COUNT} from "@orchard/shared";
import {FAST_ENGINE_FLAGS, runOrchard, sampleInput, tempDir, tinyModel, writeJsonl, type CliResult} from "./support/orchard-cli.ts";

// `orchard extract --task classify` on the tiny synthetic model: stage 1 picks a label by
// teacher-forced scoring of the label names, stage 2 is the re-ask with that label substituted.

/** On the tiny model's random weights, these names are each predicted for some of the sample's documents (1, 19 and 20). */
const LABELS = [{label: 0, name: "sad"}, {label: 1, name: "calm"}, {label: 2, name: "happy"}];
/** Uses both fields, so the test shows both are substituted. */
const TRAILING = "Is the sentiment of the review {label_name} (class {label})?";

let model: string;
let dir: string;
let labelsFile: string;
let referenceAttributes: string;
let referencePredictions: string;

const classify = (input: string, output: string, ...extra: string[]) =>
    runOrchard(["extract", "--task", "classify", "--labels", labelsFile, "--trailing-instruction", TRAILING,
        "--model", model, "--input", input, "--output", output, ...FAST_ENGINE_FLAGS, ...extra]);

function assertUserError(result: CliResult, pattern: RegExp) {
    assert.equal(result.code, 1, `expected exit code 1, got ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "a user mistake must not print a stack trace");
}

const missing = (path: string) => access(path).then(() => false, () => true);
const linesOf = (text: string) => text.split("\n").filter((line) => line !== "");

describe("orchard extract --task classify", () => {
    before(async () => {
        model = await tinyModel();
        dir = await tempDir();
        labelsFile = await writeJsonl(join(dir, "labels.jsonl"), LABELS);
        const output = join(dir, "reference.attributes.jsonl");
        const result = await classify(sampleInput, output);
        assert.equal(result.code, 0, result.stderr);
        referenceAttributes = await readFile(output, "utf8");
        // the default predictions file sits next to the attributes file
        referencePredictions = await readFile(join(dir, "reference.predictions.jsonl"), "utf8");
    });

    it("predicts a label of the set for every document, in input order, with probabilities over the labels that sum to 1", async () => {
        const inputs = linesOf(await readFile(sampleInput, "utf8")).map((line) => JSON.parse(line));
        const predictions = linesOf(referencePredictions).map((line) => JSON.parse(line));
        assert.equal(predictions.length, inputs.length);
        for (const [i, prediction] of predictions.entries()) {
            assert.deepEqual(Object.keys(prediction), ["id", "predicted_label", "predicted_name", "probabilities"]);
            assert.equal(prediction.id, inputs[i].id);
            const entry = LABELS.find((candidate) => candidate.label === prediction.predicted_label);
            assert.ok(entry, `predicted label ${prediction.predicted_label} is not in the label set`);
            assert.equal(prediction.predicted_name, entry.name);
            assert.deepEqual(Object.keys(prediction.probabilities), ["0", "1", "2"]);
            const values = Object.values(prediction.probabilities) as number[];
            for (const value of values) assert.ok(value > 0 && value < 1, `probability ${value}`);
            assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-12);
            assert.equal(prediction.probabilities[String(prediction.predicted_label)], Math.max(...values), "the prediction is the most probable label");
        }
        const attributes = linesOf(referenceAttributes).map((line) => JSON.parse(line));
        assert.deepEqual(attributes.map((line) => line.id), inputs.map((input) => input.id));
        for (const line of attributes) assert.equal(line.attributes.length, ATTRIBUTE_COUNT);
    });

    it("writes exactly the attributes of `orchard extract` with the predicted label substituted in the trailing instruction", async () => {
        const inputs = linesOf(await readFile(sampleInput, "utf8"));
        const predictions = linesOf(referencePredictions).map((line) => JSON.parse(line));
        const expected = linesOf(referenceAttributes);
        let compared = 0;
        let labelsCompared = 0;
        for (const entry of LABELS) {
            const picked = predictions.flatMap((prediction, i) => (prediction.predicted_label === entry.label ? [i] : []));
            if (picked.length === 0) continue;
            const input = await writeJsonl(join(dir, `label-${entry.label}.jsonl`), picked.map((i) => inputs[i] as string));
            const output = join(dir, `plain-${entry.label}.jsonl`);
            const instruction = `Is the sentiment of the review ${entry.name} (class ${entry.label})?`;
            // classify's re-asks are evaluated in full (its label scoring refills the context between them), as extract's are with prefix reuse off
            const result = await runOrchard(["extract", "--model", model, "--input", input, "--output", output, "--trailing-instruction", instruction, "--prefix-reuse", "off", ...FAST_ENGINE_FLAGS]);
            assert.equal(result.code, 0, result.stderr);
            assert.deepEqual(linesOf(await readFile(output, "utf8")), picked.map((i) => expected[i]), `documents predicted ${entry.name}`);
            compared += picked.length;
            labelsCompared++;
        }
        assert.equal(compared, inputs.length);
        // the comparison is only a proof of the substitution if different labels give different re-asks
        assert.ok(labelsCompared > 1, "the sample's predictions should span several labels");
    });

    it("is deterministic, and takes --predictions-output", async () => {
        const output = join(dir, "again.jsonl");
        const predictions = join(dir, "again-predictions.jsonl");
        const result = await classify(sampleInput, output, "--predictions-output", predictions);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await readFile(output, "utf8"), referenceAttributes);
        assert.equal(await readFile(predictions, "utf8"), referencePredictions);
        assert.ok(await missing(join(dir, "again.jsonl.predictions.jsonl")));
    });

    it("resumes from the shorter of the two files, whichever it is, cutting torn and unmatched lines", async () => {
        const attributes = linesOf(referenceAttributes);
        const predictions = linesOf(referencePredictions);
        const keep = (lines: string[], count: number, torn = "") => lines.slice(0, count).join("\n") + "\n" + torn;
        const cases = [
            // a kill between the two writes of document 11, attributes with a torn line
            {name: "predictions-ahead", predictions: keep(predictions, 11), attributes: keep(attributes, 10, (attributes[10] as string).slice(0, 40))},
            // the predictions file lost its unflushed tail (a power cut), torn mid-line
            {name: "attributes-ahead", predictions: keep(predictions, 5, (predictions[5] as string).slice(0, 20)), attributes: keep(attributes, 9)},
            // only one of the two files exists
            {name: "no-predictions", predictions: undefined, attributes: keep(attributes, 7)}
        ];
        for (const state of cases) {
            const output = join(dir, `${state.name}.attributes.jsonl`);
            const predictionsFile = join(dir, `${state.name}.predictions.jsonl`);
            await writeFile(output, state.attributes);
            if (state.predictions !== undefined) await writeFile(predictionsFile, state.predictions);
            const result = await classify(sampleInput, output);
            assert.equal(result.code, 0, result.stderr);
            assert.equal(await readFile(output, "utf8"), referenceAttributes, state.name);
            assert.equal(await readFile(predictionsFile, "utf8"), referencePredictions, state.name);
        }
    });

    it("resumes after a real SIGKILL mid-run with the same bytes in both files as an uninterrupted run", async () => {
        const input = join(dir, "many.jsonl");
        await writeJsonl(input, Array.from({length: 150}, (_, i) => ({id: `d${i}`, label: i % 3, document: `Document number ${i}: ${"lorem ipsum ".repeat(1 + (i % 7))}`})));
        const full = join(dir, "many-full.attributes.jsonl");
        assert.equal((await classify(input, full)).code, 0);
        const killed = join(dir, "many-killed.attributes.jsonl");
        const result = await runOrchard(["extract", "--task", "classify", "--labels", labelsFile, "--trailing-instruction", TRAILING,
            "--model", model, "--input", input, "--output", killed, ...FAST_ENGINE_FLAGS], {
            onSpawn: (child) => {
                const timer = setInterval(async () => {
                    const size = await readFile(killed, "utf8").then((text) => text.length, () => 0);
                    if (size > 5000) {
                        clearInterval(timer);
                        child.kill("SIGKILL");
                    }
                }, 20);
                child.on("close", () => clearInterval(timer));
            }
        });
        assert.equal(result.signal, "SIGKILL", "the run should have been killed mid-way");
        const partial = linesOf(await readFile(killed, "utf8")).length;
        assert.ok(partial > 0 && partial < 150, `killed after ${partial} lines`);
        const resumed = await classify(input, killed);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.equal(await readFile(killed, "utf8"), await readFile(full, "utf8"));
        assert.equal(await readFile(join(dir, "many-killed.predictions.jsonl"), "utf8"), await readFile(join(dir, "many-full.predictions.jsonl"), "utf8"));
    });

    it("refuses a predictions file written for other labels, unless --overwrite", async () => {
        const output = join(dir, "relabelled.attributes.jsonl");
        const predictionsFile = join(dir, "relabelled.predictions.jsonl");
        await writeFile(output, linesOf(referenceAttributes).slice(0, 3).join("\n") + "\n");
        const relabelled = linesOf(referencePredictions).slice(0, 3).map((line) => line.replace("\"probabilities\":{\"0\"", "\"probabilities\":{\"7\""));
        await writeFile(predictionsFile, relabelled.join("\n") + "\n");
        assertUserError(await classify(sampleInput, output), /relabelled\.predictions\.jsonl:1: existing output differs .*--overwrite/);
        const overwritten = await classify(sampleInput, output, "--overwrite");
        assert.equal(overwritten.code, 0, overwritten.stderr);
        assert.equal(await readFile(predictionsFile, "utf8"), referencePredictions);
    });

    it("works with two labels", async () => {
        const twoLabels = await writeJsonl(join(dir, "two-labels.jsonl"), [{label: 0, name: "No"}, {label: 1, name: "Yes"}]);
        const output = join(dir, "two.attributes.jsonl");
        const result = await runOrchard(["extract", "--task", "classify", "--labels", twoLabels, "--trailing-instruction", "Is the answer {label_name}?",
            "--model", model, "--input", sampleInput, "--output", output, ...FAST_ENGINE_FLAGS]);
        assert.equal(result.code, 0, result.stderr);
        for (const line of linesOf(await readFile(join(dir, "two.predictions.jsonl"), "utf8"))) {
            const prediction = JSON.parse(line);
            assert.ok([0, 1].includes(prediction.predicted_label));
            assert.ok(Math.abs((prediction.probabilities["0"] as number) + (prediction.probabilities["1"] as number) - 1) < 1e-12);
        }
    });

    describe("user mistakes: exit 1, one clear line, nothing written", () => {
        const labelCases: [string, unknown[], RegExp][] = [
            ["a duplicate label", [{label: 0, name: "a"}, {label: 1, name: "b"}, {label: 1, name: "c"}], /labels\.jsonl:3: duplicate label 1 \(first on line 2\)/],
            ["a duplicate name", [{label: 0, name: "a"}, {label: 1, name: "a"}], /labels\.jsonl:2: duplicate name "a"/],
            ["a missing name", [{label: 0, name: "a"}, {label: 1}], /labels\.jsonl:2: missing field "name"/],
            ["an empty name", [{label: 0, name: " "}, {label: 1, name: "b"}], /labels\.jsonl:1: field "name" must not be empty/],
            ["a label that is not an integer", [{label: 0.5, name: "a"}, {label: 1, name: "b"}], /labels\.jsonl:1: field "label" must be an integer/],
            ["a label given as a string", [{label: "0", name: "a"}, {label: 1, name: "b"}], /labels\.jsonl:1: field "label" must be an integer/],
            ["a line that is not JSON", [{label: 0, name: "a"}, "{label: 1", {label: 2, name: "c"}], /labels\.jsonl:2: not valid JSON/],
            ["fewer than 2 labels", [{label: 0, name: "only"}], /labels\.jsonl: 1 label; a classify task needs at least 2/]
        ];
        for (const [i, [name, rows, pattern]] of labelCases.entries()) {
            it(`a labels file with ${name}`, async () => {
                const bad = await writeJsonl(join(dir, `bad${i}-labels.jsonl`), rows);
                const output = join(dir, "bad-labels.attributes.jsonl");
                assertUserError(await runOrchard(["extract", "--task", "classify", "--labels", bad, "--trailing-instruction", TRAILING,
                    "--model", model, "--input", sampleInput, "--output", output, ...FAST_ENGINE_FLAGS]), pattern);
                assert.ok(await missing(output));
                assert.ok(await missing(join(dir, "bad-labels.predictions.jsonl")));
            });
        }

        it("a missing labels file", async () => {
            const result = await runOrchard(["extract", "--task", "classify", "--labels", join(dir, "nope.jsonl"), "--trailing-instruction", TRAILING,
                "--model", model, "--input", sampleInput, "--output", join(dir, "x.jsonl"), ...FAST_ENGINE_FLAGS]);
            assertUserError(result, /nope\.jsonl: labels file not found/);
            const folder = await runOrchard(["extract", "--task", "classify", "--labels", dir, "--trailing-instruction", TRAILING,
                "--model", model, "--input", sampleInput, "--output", join(dir, "x.jsonl"), ...FAST_ENGINE_FLAGS]);
            assertUserError(folder, /the labels file is a folder, not a file/);
        });

        it("a document whose prompts do not fit the context names its line; --truncate cuts it instead", async () => {
            const input = await writeJsonl(join(dir, "long.jsonl"), [
                {id: "short", label: 0, document: "Fine."},
                {id: "long", label: 1, document: "lorem ipsum ".repeat(600)}
            ]);
            const output = join(dir, "long.attributes.jsonl");
            assertUserError(await classify(input, output), /long\.jsonl:2: the prompt for document "long" is \d+ tokens, longer than the context size of 1024/);
            assert.ok(await missing(output));
            const truncated = await classify(input, output, "--truncate");
            assert.equal(truncated.code, 0, truncated.stderr);
            assert.equal(linesOf(await readFile(join(dir, "long.predictions.jsonl"), "utf8")).length, 2);
            assert.equal(linesOf(await readFile(output, "utf8")).length, 2);
        });

        it("--task classify without --labels, and classify flags without --task classify", async () => {
            assertUserError(await runOrchard(["extract", "--task", "classify", "--model", model, "--input", sampleInput, "--output", join(dir, "x.jsonl")]),
                /--task classify needs --labels/);
            assertUserError(await runOrchard(["extract", "--labels", labelsFile, "--model", model, "--input", sampleInput, "--output", join(dir, "x.jsonl")]),
                /--labels is for --task classify/);
        });

        it("a trailing instruction without {label_name} or {label}, a label prompt without {document}", async () => {
            const output = join(dir, "x.attributes.jsonl");
            assertUserError(await runOrchard(["extract", "--task", "classify", "--labels", labelsFile, "--model", model, "--input", sampleInput, "--output", output, ...FAST_ENGINE_FLAGS]),
                /--trailing-instruction has no \{label_name\} or \{label\}/);
            assertUserError(await classify(sampleInput, output, "--label-prompt", "[INST] Pick one of {labels} [/INST]"), /--label-prompt has no \{document\}/);
            assert.ok(await missing(output));
        });

        it("a predictions file that is the output or the input", async () => {
            const output = join(dir, "same.jsonl");
            assertUserError(await classify(sampleInput, output, "--predictions-output", output), /--predictions-output .*same\.jsonl is the --output file/);
            assertUserError(await classify(sampleInput, output, "--predictions-output", sampleInput), /--predictions-output .* is the --input file/);
            assert.ok(await missing(output));
        });
    });
});
