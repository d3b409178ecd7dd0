import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {
    ATTRIBUTE_CLIP, ATTRIBUTE_COUNT, buildReaskPrompt, computeAttributes, DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT,
    DEFAULT_TRAILING_INSTRUCTION, NO_TOKEN_ID, prepareDocumentText, YES_TOKEN_ID
} from "@orchard/shared";
import {ExtractionEngine, type PrefixReuseCounts} from "@orchard/worker";
import {FAST_ENGINE_FLAGS, runOrchard, tempDir, tinyModel, writeJsonl} from "./support/orchard-cli.ts";
import {ReferenceModel, type ReferenceForward} from "./support/reference-model.ts";

// Proof that `orchard extract` computes the right numbers: the attributes the real CLI writes for
// the tiny synthetic Mixtral (f32 weights) are compared with a float64 forward pass written from
// the math (test/support/reference-model.ts), fed exactly the tokens the engine evaluated.
//
// The reference runs in plain float64, the truest reference, not emulating llama.cpp's rounding:
// llama.cpp keeps K/V in an f16 cache and, with flash attention on (the engine's setting), runs
// the last position as a 1-token batch through the f16-accumulating kernel (all positions of a
// prompt under 64 tokens). That moves logits by ~1e-3 and hidden states by ~1e-3 at most, i.e.
// the logit attributes (logit / 100) by ~1e-5 and the hidden-state group means by a few 1e-4:
// measured 2e-4 to 5e-4 in all, well inside the required 2e-3, while a real bug moves them by far
// more (measured: a missing BOS 2.5e-2, one token changed 3.6e-2, an unstripped document 7e-2).

/** Required agreement, absolute, on every one of the 32 attributes. */
const TOLERANCE = 2e-3;
/**
 * Router near-tie threshold. Where a position's 2nd and 3rd largest expert router logits (in any
 * layer) are closer than the rounding noise of llama.cpp (~1e-4 on router logits, ~1e-3 through
 * the f16-accumulating flash-attention kernel), llama.cpp may legitimately route that position to
 * another expert than the float64 reference, and its logits and hidden state then jump by O(1):
 * enough to break the tolerance through a max/min over positions or the hidden mean. The
 * documents below were chosen so that no position of any of them is that close (about 4 positions
 * of a typical 300-token prompt are, so most texts are not usable), and a test ASSERTS it: if the
 * model, tokenizer, prompt template or reference changes and a document acquires a near-tie, the
 * test fails naming the document instead of comparing (or skipping) silently. Then pick another
 * seed or text: the printed minimum margins show which document qualifies.
 */
const NEAR_TIE = 3e-3;

const ENGLISH_SENTENCES = [
    "The battery lasts two full days of heavy use.",
    "Setup took less than five minutes, even for my grandmother.",
    "The screen scratches far too easily for the price.",
    "Customer support answered within an hour and fixed the problem.",
    "I would not buy it again at this price.",
    "The speakers are loud but the bass is muddy.",
    "After a month the hinge started to creak.",
    "It ships with a charger, a case and a cleaning cloth.",
    "Photos in daylight are sharp; at night they are noisy.",
    "The manual is short, clear and translated well.",
    "My old phone felt faster when opening large apps.",
    "Overall it does what the box promises, nothing more."
];
const UNICODE_SENTENCES = [
    "Le café était délicieux, mais la crème brûlée était trop sucrée.",
    "Ñandú, pingüino y cigüeña: ¡qué zoológico más extraño!",
    "東京の寿司は最高でした。",
    "这个产品很糟糕，我很失望。",
    "서비스가 정말 친절했어요.",
    "Fünf Sterne für die schnelle Lieferung! 🚚✨",
    "Ça ne marche pas du tout 😡💔",
    "Perfect gift 🎁🎉👍 — my kids loved it ❤️",
    "Ελληνικά: πολύ καλό προϊόν.",
    "Отличное качество, рекомендую!"
];

/** `count` sentences drawn from `sentences` by a Park-Miller generator from `seed`: a deterministic ~300-token review. */
function review(sentences: readonly string[], seed: number, count: number): string {
    let state = seed;
    const picked: string[] = [];
    for (let i = 0; i < count; i++) {
        state = (state * 48271) % 2147483647;
        picked.push(sentences[state % sentences.length] as string);
    }
    return picked.join(" ");
}

interface TestDocument {
    readonly id: string;
    readonly document: string;
    /** Prompt length (BOS included) the document is meant to have, to keep each kind what it claims to be. */
    readonly tokens: readonly [min: number, max: number];
}

// Short prompts (< 64 tokens) go through llama.cpp's f16-accumulating flash-attention kernel at
// every position; longer ones through the tiled kernel, except the last position. English seeds 17
// and 29 are the only ones of 1..50, unicode seed 6 one of two of 1..30, whose review has no
// router near-tie (see NEAR_TIE).
const DOCUMENTS: readonly TestDocument[] = [
    {id: "short-en", document: "An absolute delight from start to finish.", tokens: [40, 63]},
    {id: "short-unicode", document: "  Café crème brûlée, naïve façade — très réussi! 東京の寿司は最高でした 🍣🎉👍  ", tokens: [64, 120]},
    {id: "long-en-17", document: review(ENGLISH_SENTENCES, 17, 22), tokens: [250, 350]},
    {id: "long-en-29", document: review(ENGLISH_SENTENCES, 29, 22), tokens: [250, 350]},
    {id: "long-unicode-6", document: review(UNICODE_SENTENCES, 6, 12), tokens: [250, 350]}
];

/** FAST_ENGINE_FLAGS with one llama.cpp thread: on a loaded 2-core machine two threads' barriers can cost more than they give. */
const ENGINE_FLAGS = FAST_ENGINE_FLAGS.map((flag, i) => (FAST_ENGINE_FLAGS[i - 1] === "--threads" ? "1" : flag));

interface Compared {
    readonly tokens: readonly number[];
    readonly extracted: readonly number[];
}

/** What referenceAttributes computes, from a forward pass already run (the margins need it too; a forward costs ~1 s). */
function attributesOf(forward: ReferenceForward): number[] {
    const {hiddenStates} = forward;
    const hiddenMean = new Float64Array(hiddenStates[0]?.length ?? 0);
    for (const hidden of hiddenStates) hidden.forEach((value, i) => { hiddenMean[i] = (hiddenMean[i] as number) + value; });
    hiddenMean.forEach((value, i) => { hiddenMean[i] = value / hiddenStates.length; });
    return computeAttributes({
        maxLogits: forward.maxLogits,
        secondLogits: forward.secondLogits,
        hiddenMean,
        hiddenLast: hiddenStates.at(-1) as Float64Array,
        yesLogit: forward.lastLogits[YES_TOKEN_ID] as number,
        noLogit: forward.lastLogits[NO_TOKEN_ID] as number
    });
}

describe("orchard extract agrees with the float64 reference forward pass", () => {
    let reference: ReferenceModel;
    /** The route the CLI reported ("auto" picks one-pass unless node-llama-cpp's internals changed). */
    let route = "unknown";
    const compared = new Map<string, Compared>();

    before(async () => {
        const model = await tinyModel();
        const dir = await tempDir();
        const input = await writeJsonl(join(dir, "input.jsonl"), DOCUMENTS.map(({id, document}, i) => ({id, label: i % 2, document})));
        const output = join(dir, "output.jsonl");
        // the engine's defaults for everything that shapes the numbers: prompt, route, batch size, flash attention.
        // The CLI runs in a child process while this one tokenizes and loads the reference (saves ~3 s).
        const run = runOrchard(["extract", "--model", model, "--input", input, "--output", output, ...ENGINE_FLAGS]);

        // the same tokens as the engine: BOS + tokenize(re-ask prompt of the stripped, cut document)
        const engine = await ExtractionEngine.load({modelPath: model, gpu: false, threads: 1, contexts: 1, contextSize: 1024});
        const tokens = new Map<string, number[]>();
        try {
            for (const doc of DOCUMENTS) {
                const documentText = prepareDocumentText(doc.document, DEFAULT_MAX_DOCUMENT_CHARS);
                tokens.set(doc.id, engine.tokenizePrompt(buildReaskPrompt(DEFAULT_PROMPT_TEXT, documentText, DEFAULT_TRAILING_INSTRUCTION)));
            }
        } finally {
            await engine.close();
        }
        reference = await ReferenceModel.load(model);

        const result = await run;
        assert.equal(result.code, 0, result.stderr);
        route = /"route":"([\w-]+)"/.exec(result.stderr)?.[1] ?? "unknown";
        // the default --prefix-reuse auto: every document went through its context's cached prefix
        if (route === "one-pass") assert.match(result.stdout, new RegExp(`Prefix reuse: ${DOCUMENTS.length} documents reused their prompt's prefix, 0 evaluated in full`));
        const lines = (await readFile(output, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as {id: string; document: string; attributes: number[]});
        assert.deepEqual(lines.map((line) => line.id), DOCUMENTS.map((doc) => doc.id));
        DOCUMENTS.forEach((doc, i) => {
            const line = lines[i] as (typeof lines)[number];
            assert.equal(line.document, prepareDocumentText(doc.document, DEFAULT_MAX_DOCUMENT_CHARS), `${doc.id}: the output's document is not the prepared text`);
            compared.set(doc.id, {tokens: tokens.get(doc.id) as number[], extracted: line.attributes});
        });
    });

    it("has documents of the intended lengths: short (< 64 tokens), ~300 tokens, unicode", (t) => {
        for (const doc of DOCUMENTS) {
            const length = compared.get(doc.id)?.tokens.length ?? 0;
            t.diagnostic(`${doc.id}: ${length} tokens (extracted by the ${route} route)`);
            assert.ok(length >= doc.tokens[0] && length <= doc.tokens[1], `${doc.id}: ${length} tokens, expected ${doc.tokens[0]}..${doc.tokens[1]}`);
        }
    });

    for (const doc of DOCUMENTS) {
        it(`${doc.id}: every one of the 32 attributes within ${TOLERANCE} of the reference`, (t) => {
            const {tokens, extracted} = compared.get(doc.id) as Compared;
            const forward = reference.forward(tokens);
            // see NEAR_TIE: the comparison is only meaningful when llama.cpp must route like the reference
            const margins = Array.from(forward.minRouterMargin);
            const minMargin = Math.min(...margins);
            t.diagnostic(`${doc.id}: ${tokens.length} tokens, smallest router margin ${minMargin.toExponential(2)} at position ${margins.indexOf(minMargin)}`);
            assert.ok(minMargin >= NEAR_TIE,
                `${doc.id}: position ${margins.indexOf(minMargin)} has a router near-tie (margin ${minMargin.toExponential(2)} < ${NEAR_TIE}), ` +
                "where llama.cpp may pick another expert than the reference: choose another document (see NEAR_TIE)");

            const expected = attributesOf(forward);
            assert.equal(extracted.length, ATTRIBUTE_COUNT);
            const differences = extracted.map((value, i) => Math.abs(value - (expected[i] as number)));
            const worst = differences.indexOf(Math.max(...differences));
            t.diagnostic(`${doc.id}: max |engine - reference| ${(differences[worst] as number).toExponential(2)} at a${worst}`);
            differences.forEach((difference, i) =>
                assert.ok(difference <= TOLERANCE, `${doc.id}: a${i} is ${extracted[i]}, the reference ${expected[i]} (|diff| ${difference.toExponential(2)} > ${TOLERANCE})`));
        });
    }

    it("writes internally consistent attributes", () => {
        // |fround(x) - x| <= 2^-24 |x|: each identity's three roundings allow 2^-24 of each magnitude involved
        const closeInFloat32 = (actual: number, expected: number, ...parts: number[]): boolean =>
            Math.abs(actual - expected) <= 2 ** -23 * [actual, ...parts].reduce((sum, value) => sum + Math.abs(value), 0);
        for (const doc of DOCUMENTS) {
            const a = (compared.get(doc.id) as Compared).extracted;
            const at = (i: number): number => a[i] as number;
            assert.equal(a.length, ATTRIBUTE_COUNT);
            for (const [i, value] of a.entries()) {
                assert.ok(typeof value === "number" && value >= -ATTRIBUTE_CLIP && value <= ATTRIBUTE_CLIP, `${doc.id}: a${i} = ${value} is outside [-2, 2]`);
                assert.equal(Math.fround(value), value, `${doc.id}: a${i} = ${value} is not a float32`);
            }
            // the identities hold before clipping: the operands must not be clipped (the tiny model's logits are far from 200)
            for (const i of [27, 28, 30, 31]) assert.ok(Math.abs(at(i)) < ATTRIBUTE_CLIP, `${doc.id}: a${i} is clipped`);
            const clip = (value: number): number => Math.min(ATTRIBUTE_CLIP, Math.max(-ATTRIBUTE_CLIP, value));
            assert.ok(closeInFloat32(at(25), clip(at(27) - at(30)), at(27), at(30)), `${doc.id}: a25 ${at(25)} != a27 - a30 = ${at(27) - at(30)}`);
            assert.ok(closeInFloat32(at(26), clip(at(27) - at(31)), at(27), at(31)), `${doc.id}: a26 ${at(26)} != a27 - a31 = ${at(27) - at(31)}`);
            assert.ok(closeInFloat32(at(29), clip(at(27) - at(28)), at(27), at(28)), `${doc.id}: a29 ${at(29)} != a27 - a28 = ${at(27) - at(28)}`);
            // each triple is (max, min, mean) over positions; rounding to float32 is monotonic, so exact
            for (const base of [0, 3, 6])
                assert.ok(at(base) >= at(base + 2) && at(base + 2) >= at(base + 1), `${doc.id}: a${base}..a${base + 2} = ${a.slice(base, base + 3).join(", ")} is not max >= mean >= min`);
            // the last position's top-2 lie within the per-position ranges
            assert.ok(at(27) <= at(0) && at(27) >= at(1) && at(28) <= at(3) && at(28) >= at(4) && at(29) <= at(6) && at(29) >= at(7), `${doc.id}: last position outside the ranges`);
        }
    });
});

// Prefix reuse (issue 11): the engine evaluates the prompt's shared prefix once per context and
// then only each document's suffix. Short fact-check statements are where it matters most (the
// prefix is ~40% of their prompts) and where the token boundary is most exposed: statements that
// start with punctuation, a digit, spaces or a quote. Passed as written (not stripped), so the
// engine sees those starts.
const FACTCHECK_PROMPT = "Given the following document, please answer the question. Document:";
const FACTCHECK_TRAILING = "Question: Does the previous document contain correct information and is it well-written?";
// Chosen, like DOCUMENTS, to have no router near-tie (NEAR_TIE; asserted below).
const STATEMENTS: readonly {id: string; document: string}[] = [
    {id: "plain", document: "Gold is a chemical element."},
    {id: "punctuation", document: "...and the Nile flows north into the Mediterranean."},
    {id: "digit", document: "42 is the atomic number of molybdenum."},
    {id: "spaces", document: "  Sharks are mammals."},
    {id: "quote", document: "\"Water boils at 90 degrees at sea level,\" he said."},
    {id: "single-quote", document: "'Tokyo' is the capital of Japan."},
    {id: "parenthesis", document: "(Canberra) is the capital of Australia."},
    {id: "minus", document: "-40 degrees is the same in Celsius and Fahrenheit."}
];
/** Two layouts of the same prompt (one decode, or prefix then suffix) agree this closely on the tiny model (FACTS: 4.8e-5 measured). */
const LAYOUT_TOLERANCE = 5e-4;

describe("prefix reuse: exact against the float64 reference and against full evaluation", () => {
    let reference: ReferenceModel;
    /** The same engine settings with --prefix-reuse auto (the default) and off. */
    let reusing: ExtractionEngine;
    let full: ExtractionEngine;
    before(async () => {
        const model = await tinyModel();
        reference = await ReferenceModel.load(model);
        const options = {modelPath: model, gpu: false, threads: 1, contexts: 1, contextSize: 1024} as const;
        reusing = await ExtractionEngine.load(options);
        full = await ExtractionEngine.load({...options, prefixReuse: "off"});
    });
    after(async () => {
        await reusing?.close();
        await full?.close();
    });

    it("fact-check statements with awkward starts: within the tolerance of the reference with reuse, and of --prefix-reuse off", async (t) => {
        const before = {reusing: reusing.prefixReuseCounts, full: full.prefixReuseCounts};
        for (const statement of STATEMENTS) {
            const tokens = reusing.tokenizePrompt(buildReaskPrompt(FACTCHECK_PROMPT, statement.document, FACTCHECK_TRAILING));
            const reused = await reusing.extract(tokens, FACTCHECK_PROMPT);
            const inFull = await full.extract(tokens, FACTCHECK_PROMPT);
            const forward = reference.forward(tokens);
            const minMargin = Math.min(...forward.minRouterMargin);
            assert.ok(minMargin >= NEAR_TIE, `${statement.id}: a router near-tie (margin ${minMargin.toExponential(2)}): choose another statement (see NEAR_TIE)`);
            const expected = attributesOf(forward);
            const toReference = Math.max(...reused.map((value, i) => Math.abs(value - (expected[i] as number))));
            const toFull = Math.max(...reused.map((value, i) => Math.abs(value - (inFull[i] as number))));
            t.diagnostic(`${statement.id}: ${tokens.length} tokens, |reuse - reference| ${toReference.toExponential(2)}, |reuse - off| ${toFull.toExponential(2)}`);
            assert.ok(toReference <= TOLERANCE, `${statement.id}: ${toReference} from the reference`);
            assert.ok(toFull <= LAYOUT_TOLERANCE, `${statement.id}: ${toFull} from --prefix-reuse off`);
        }
        // every statement really went through the cached prefix (and none through the "off" engine's)
        assert.deepEqual(countsSince(before.reusing, reusing), {reused: STATEMENTS.length, full: 0, guarded: 0});
        assert.deepEqual(countsSince(before.full, full), {reused: 0, full: STATEMENTS.length, guarded: 0});
    });

    it("the token-boundary guard evaluates in full a document whose first characters merge with the prefix", async () => {
        const engine = reusing;
        const start = engine.prefixReuseCounts;
        // a prompt text ending in a space: alone it ends in a lone "▁" piece, which the separator
        // space and a document starting with a digit turn into other pieces
        const promptText = "Is this statement true? ";
        const prefix = engine.tokenizePrompt(`[INST] How can I help you?\n${promptText}`);
        const merging = engine.tokenizePrompt(buildReaskPrompt(promptText, "1912 saw the Titanic sink.", FACTCHECK_TRAILING));
        const clean = engine.tokenizePrompt(buildReaskPrompt(promptText, "The Titanic sank in 1912.", FACTCHECK_TRAILING));
        assert.notDeepEqual(merging.slice(0, prefix.length), prefix, "the test document no longer merges with the prefix: pick another");
        assert.deepEqual(clean.slice(0, prefix.length), prefix);

        const guarded = await engine.extract(merging, promptText);
        assert.deepEqual(countsSince(start, engine), {reused: 0, full: 1, guarded: 1});
        // in full means exactly the --prefix-reuse off computation
        assert.deepEqual(guarded, await full.extract(merging, promptText));
        const first = await engine.extract(clean, promptText);
        assert.deepEqual(countsSince(start, engine), {reused: 1, full: 1, guarded: 1});
        // a document's result never depends on what its context evaluated before
        await engine.extract(merging, promptText);
        assert.deepEqual(await engine.extract(clean, promptText), first);
        assert.deepEqual(countsSince(start, engine), {reused: 2, full: 2, guarded: 2});
    });
});

/** The engine's prefix-reuse counts minus `start` (the tests of a suite share its engines). */
function countsSince(start: PrefixReuseCounts, engine: ExtractionEngine): PrefixReuseCounts {
    const now = engine.prefixReuseCounts;
    return {reused: now.reused - start.reused, full: now.full - start.full, guarded: now.guarded - start.guarded};
}
