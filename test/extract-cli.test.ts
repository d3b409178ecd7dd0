import assert from "node:assert/strict";
import {access, link, readFile, rm, symlink, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {before, describe, it} from "node:test";
import {ATTRIBUTE_COUNT} from "@orchard/shared";
import {FAST_ENGINE_FLAGS, runOrchard, sampleInput, tempDir, tinyModel, writeJsonl, type CliResult} from "./support/orchard-cli.ts";

let model: string;
let dir: string;
let reference: string; // the sample's output from a clean run

const extract = (input: string, output: string, ...extra: string[]) =>
    runOrchard(["extract", "--model", model, "--input", input, "--output", output, ...FAST_ENGINE_FLAGS, ...extra]);

function assertUserError(result: CliResult, pattern: RegExp) {
    assert.equal(result.code, 1, `expected exit code 1, got ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "a user mistake must not print a stack trace");
}

async function missing(path: string) {
    return access(path).then(() => false, () => true);
}

describe("orchard extract", () => {
    before(async () => {
        model = await tinyModel();
        dir = await tempDir();
        const output = join(dir, "reference.jsonl");
        const result = await extract(sampleInput, output);
        assert.equal(result.code, 0, result.stderr);
        reference = await readFile(output, "utf8");
    });

    it("writes one line per document, in input order, with 32 float32 attributes in [-2, 2]", async () => {
        const inputs = (await readFile(sampleInput, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
        const outputs = reference.trim().split("\n").map((line) => JSON.parse(line));
        assert.equal(outputs.length, inputs.length);
        for (const [i, out] of outputs.entries()) {
            const input = inputs[i];
            assert.deepEqual(Object.keys(out), ["id", "label", "document", "attributes", "prompt", ...("info" in input ? ["info"] : []), ...("group" in input ? ["group"] : [])]);
            assert.equal(out.id, input.id);
            assert.equal(out.label, input.label);
            assert.equal(out.document, input.document.trim());
            assert.equal(out.attributes.length, ATTRIBUTE_COUNT);
            for (const value of out.attributes) {
                assert.ok(value >= -2 && value <= 2);
                assert.equal(Math.fround(value), value);
            }
        }
        // documents differ, so their attributes do
        assert.notDeepEqual(outputs[0].attributes, outputs[1].attributes);
    });

    it("is deterministic: a second run writes identical bytes", async () => {
        const output = join(dir, "again.jsonl");
        const result = await extract(sampleInput, output);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await readFile(output, "utf8"), reference);
        assert.match(result.stdout, /Documents: 40 extracted/);
        assert.match(result.stdout, /Tokens: \d+ {2}Seconds: [\d.]+ {2}Tokens\/s: [\d.]+ {2}Documents\/s: [\d.]+/);
    });

    it("resumes after the last complete line, repairing a torn one, and never duplicates", async () => {
        const output = join(dir, "resumed.jsonl");
        const lines = reference.split("\n");
        const torn = lines.slice(0, 10).join("\n") + "\n" + (lines[10] as string).slice(0, 37);
        await writeFile(output, torn);
        const result = await extract(sampleInput, output);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /resuming: 10 of 40 documents already in/);
        assert.match(result.stderr, /cut a torn last line of 37 bytes/);
        assert.match(result.stdout, /Documents: 30 extracted \(\+10 already done, 40 in all\)/);
        assert.equal(await readFile(output, "utf8"), reference);

        const again = await extract(sampleInput, output);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /Documents: 0 extracted \(\+40 already done/);
        assert.equal(await readFile(output, "utf8"), reference);
    });

    it("resumes after a real SIGKILL mid-run with the same bytes as an uninterrupted run", async () => {
        const input = join(dir, "many.jsonl");
        const rows = Array.from({length: 200}, (_, i) => ({id: `d${i}`, label: i % 2, document: `Document number ${i}: ${"lorem ipsum ".repeat(1 + (i % 7))}`}));
        await writeJsonl(input, rows);
        const full = join(dir, "many-full.jsonl");
        assert.equal((await extract(input, full)).code, 0);
        const killed = join(dir, "many-killed.jsonl");
        const result = await runOrchard(["extract", "--model", model, "--input", input, "--output", killed, ...FAST_ENGINE_FLAGS], {
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
        const partial = (await readFile(killed, "utf8")).split("\n").length - 1;
        assert.ok(partial > 0 && partial < 200, `killed after ${partial} lines`);
        const resumed = await extract(input, killed);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.equal(await readFile(killed, "utf8"), await readFile(full, "utf8"));
    });

    it("refuses an output that belongs to another input, unless --overwrite", async () => {
        const output = join(dir, "other.jsonl");
        const otherInput = await writeJsonl(join(dir, "other-input.jsonl"), [{id: "zzz", label: 1, document: "something else"}]);
        assert.equal((await extract(otherInput, output)).code, 0);
        const refused = await extract(sampleInput, output);
        assertUserError(refused, /other\.jsonl:1: existing output has id "zzz" where the input's document 1 has id "review-001".*--overwrite/);
        assert.equal((await readFile(output, "utf8")).split("\n").length, 2, "the refused run must not touch the file");
        const overwritten = await extract(sampleInput, output, "--overwrite");
        assert.equal(overwritten.code, 0, overwritten.stderr);
        assert.equal(await readFile(output, "utf8"), reference);
    });

    it("refuses an output that is a symbolic or hard link to the input, with or without --overwrite, and leaves the input intact", async () => {
        const linkDir = await tempDir("orchard-extract-links-");
        try {
            // no final newline: resuming would take the whole input for a torn last output line and cut it
            const input = join(linkDir, "input.jsonl");
            const original = JSON.stringify({id: "a", label: 1, document: "only one"});
            await writeFile(input, original);
            await symlink(input, join(linkDir, "soft.jsonl"));
            await link(input, join(linkDir, "hard.jsonl"));
            for (const output of ["soft.jsonl", "hard.jsonl"])
                for (const extra of [["--overwrite"], []]) {
                    const result = await extract(input, join(linkDir, output), ...extra);
                    assertUserError(result, new RegExp(`--output .*${output} is the input file .*input\\.jsonl.*\\[INVALID_ARGUMENT\\]`));
                    assert.equal(await readFile(input, "utf8"), original, `${output} ${extra.join(" ")}: the input must be untouched`);
                }
        } finally {
            await rm(linkDir, {recursive: true, force: true});
        }
    });

    it("refuses to resume when the settings changed (a different prompt)", async () => {
        const output = join(dir, "settings.jsonl");
        await writeFile(output, reference.split("\n").slice(0, 3).join("\n") + "\n");
        const result = await extract(sampleInput, output, "--prompt-text", "Another instruction:");
        assertUserError(result, /settings\.jsonl:1: existing output differs from what this input and these settings give for id "review-001"/);
    });

    it("accepts the seed script's flag names", async () => {
        const output = join(dir, "seed-flags.jsonl");
        const result = await runOrchard(["extract", "--model-path", model, "--input_filename", sampleInput, "--output_jsonl_file", output,
            "--prompt_text", "Please classify the sentiment of the following review. Review:",
            "--trailing_instruction", "Does the review express a positive sentiment?", "--seed", "0", ...FAST_ENGINE_FLAGS]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await readFile(output, "utf8"), reference);
    });

    it("drops or combines the prompt in the output", async () => {
        const dropped = join(dir, "dropped.jsonl");
        assert.equal((await extract(sampleInput, dropped, "--drop_the_prompt_in_json_output")).code, 0);
        const first = JSON.parse((await readFile(dropped, "utf8")).split("\n")[0] as string);
        assert.equal(first.prompt, undefined);
        const combined = join(dir, "combined.jsonl");
        assert.equal((await extract(sampleInput, combined, "--combine-prompt-and-document")).code, 0);
        const line = JSON.parse((await readFile(combined, "utf8")).split("\n")[0] as string);
        assert.equal(line.prompt, undefined);
        assert.match(line.document, /^Please classify the sentiment of the following review\. Review: An absolute delight/);
        // the attributes do not depend on how the output shows the prompt
        assert.deepEqual(line.attributes, JSON.parse(reference.split("\n")[0] as string).attributes);
    });

    it("takes each line's prompt with --use-json-prompt", async () => {
        const input = await writeJsonl(join(dir, "json-prompt.jsonl"), [
            {id: "a", label: 1, document: "Great!", prompt: "Is this praise?"},
            {id: "b", label: 1, document: "Great!", prompt: "Is this a complaint?"}
        ]);
        const output = join(dir, "json-prompt-out.jsonl");
        const result = await extract(input, output, "--use-json-prompt");
        assert.equal(result.code, 0, result.stderr);
        const [a, b] = (await readFile(output, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
        assert.equal(a.prompt, "Is this praise?");
        assert.notDeepEqual(a.attributes, b.attributes);
    });

    describe("bad input: a clear error naming file and line, nothing written", () => {
        const cases: [string, unknown[], string[], RegExp][] = [
            ["a line that is not JSON", [{id: "a", label: 1, document: "x"}, "{\"id\": \"b\", "], [], /bad\.jsonl:2: not valid JSON/],
            ["a missing field", [{id: "a", label: 1}], [], /bad\.jsonl:1: missing field "document"/],
            ["a mistyped field", [{id: "a", label: "positive", document: "x"}], [], /bad\.jsonl:1: field "label" must be an integer/],
            ["a duplicate id", [{id: "a", label: 1, document: "x"}, {id: "a", label: 0, document: "y"}], [], /bad\.jsonl:2: duplicate id "a" \(first seen on line 1\)/],
            ["--use-json-prompt without a prompt field", [{id: "a", label: 1, document: "x"}], ["--use-json-prompt"], /bad\.jsonl:1: --use-json-prompt is set but the line has no non-empty "prompt" field/],
            ["a document longer than the context", [{id: "a", label: 1, document: "short"}, {id: "long", label: 1, document: "word ".repeat(400)}], ["--context-size", "128"],
                /bad\.jsonl:2: the prompt for document "long" is \d+ tokens, longer than the context size of 128.*--truncate/]
        ];
        for (const [name, rows, flags, pattern] of cases) {
            it(name, async () => {
                const input = await writeJsonl(join(dir, "bad.jsonl"), rows);
                const output = join(dir, `never-${name.replace(/\W+/g, "-")}.jsonl`);
                const result = await extract(input, output, ...flags);
                assertUserError(result, pattern);
                assert.ok(await missing(output), "no output file may be created for a bad input");
            });
        }

        it("--truncate cuts a too-long document instead", async () => {
            const input = await writeJsonl(join(dir, "long.jsonl"), [{id: "long", label: 1, document: "word ".repeat(400)}]);
            const output = join(dir, "long-out.jsonl");
            const result = await extract(input, output, "--context-size", "128", "--truncate");
            assert.equal(result.code, 0, result.stderr);
            assert.match(result.stderr, /1 documents were cut to fit the context/);
            assert.equal(JSON.parse(await readFile(output, "utf8")).attributes.length, ATTRIBUTE_COUNT);
        });

        const argumentCases: [string, string[], RegExp][] = [
            ["an empty prompt text", ["--prompt-text", " "], /--prompt-text is empty/],
            ["an empty trailing instruction", ["--trailing-instruction", ""], /--trailing-instruction is empty/],
            ["both combine and drop", ["--combine-prompt-and-document", "--drop-prompt"], /exclude each other/]
        ];
        for (const [name, flags, pattern] of argumentCases) {
            it(name, async () => {
                const output = join(dir, "never-args.jsonl");
                assertUserError(await extract(sampleInput, output, ...flags), pattern);
                assert.ok(await missing(output));
            });
        }

        it("a missing model file", async () => {
            const output = join(dir, "never-model.jsonl");
            const result = await runOrchard(["extract", "--model", join(dir, "nope.gguf"), "--input", sampleInput, "--output", output, ...FAST_ENGINE_FLAGS]);
            assertUserError(result, /nope\.gguf: model file not found \[MODEL_NOT_FOUND\]/);
            assert.ok(await missing(output));
        });

        it("a model file that is not GGUF", async () => {
            const fake = join(dir, "fake.gguf");
            await writeFile(fake, "this is not a model");
            const output = join(dir, "never-fake.jsonl");
            const result = await runOrchard(["extract", "--model", fake, "--input", sampleInput, "--output", output, ...FAST_ENGINE_FLAGS]);
            assertUserError(result, /fake\.gguf: .*not a GGUF file.*\[MODEL_INVALID\]/);
            assert.ok(await missing(output));
        });

        it("a missing input file", async () => {
            const result = await extract(join(dir, "absent.jsonl"), join(dir, "never.jsonl"));
            assertUserError(result, /absent\.jsonl: input file not found \[INPUT_NOT_FOUND\]/);
        });

        it("an unknown flag", async () => {
            const result = await extract(sampleInput, join(dir, "never.jsonl"), "--frobnicate");
            assertUserError(result, /Unknown argument: frobnicate/);
        });
    });
});
