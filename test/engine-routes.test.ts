import assert from "node:assert/strict";
import {after, before, describe, it} from "node:test";
import {ATTRIBUTE_COUNT, buildReaskPrompt, DEFAULT_MAX_DOCUMENT_CHARS, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION, prepareDocumentText} from "@orchard/shared";
import {ExtractionEngine, type ExtractionEngineOptions} from "@orchard/worker";
import {tinyModel} from "./support/orchard-cli.ts";
import {ReferenceModel} from "./support/reference-model.ts";

// Guard for the node-llama-cpp internals the one-pass route relies on (LlamaContext._ctx.getEmbedding
// on a context created with the internal `_embeddings: true`, see one-pass-evaluator.ts). An upgrade
// can remove them (then loading the one-pass route throws ENGINE_UNSUPPORTED, and "auto" silently
// falls back to the ~3x slower three-pass route) or, worse, change what they return. So: the
// one-pass route must load, and give the same attributes as the three-pass route, which uses
// public API only, on a few documents.
//
// A batch size of 64 makes the one-pass route sum several chunk means on the long document (the
// path that a change in getEmbedding's semantics would break), not just one. The two routes run
// different llama.cpp kernels at some positions (flash attention on ubatches under 64 tokens
// accumulates in f16), so they differ by rounding: measured 1e-7 on the 50-token prompt (same
// kernels), 3e-4 and 6e-4 on the 81- and 193-token ones. A wrong hidden state (a missing BOS, one
// token off, a chunk mean weighted wrongly) moves attributes by more than 1e-2.

const TOLERANCE = 2e-3;
/**
 * Where a position's 2nd and 3rd expert router logits are closer than this, the rounding
 * differences between the routes' kernels can route it to different experts, and the attributes
 * legitimately differ by far more than TOLERANCE. The documents were chosen to have no such
 * position, and that is asserted (via the float64 reference), so that a change moving the margins
 * fails loudly here rather than as an unexplained mismatch. (Same threshold and reasoning as
 * test/extract-reference.test.ts.)
 */
const NEAR_TIE = 3e-3;

const RESTAURANT_SENTENCES = [
    "We booked a table for six on a Friday night.",
    "The waiter brought bread and olive oil without being asked.",
    "Our soup arrived lukewarm, so we sent it back.",
    "The grilled fish was tender and perfectly seasoned.",
    "Dessert took forty minutes, which spoiled the evening.",
    "Prices are fair for the portions you get.",
    "The terrace is lovely when the weather is mild.",
    "Parking nearby is almost impossible after seven.",
    "The wine list favours small local producers.",
    "Music was so loud that we had to shout."
];

/** `count` sentences picked by a Park-Miller generator from `seed`. Seed 1 is one of the few of 1..40 without a near-tie. */
function review(seed: number, count: number): string {
    let state = seed;
    const picked: string[] = [];
    for (let i = 0; i < count; i++) {
        state = (state * 48271) % 2147483647;
        picked.push(RESTAURANT_SENTENCES[state % RESTAURANT_SENTENCES.length] as string);
    }
    return picked.join(" ");
}

const DOCUMENTS: readonly {id: string; document: string}[] = [
    {id: "short-en", document: "I loved it. Five stars, would buy again!"},
    {id: "short-unicode", document: "  Café crème brûlée, naïve façade — très réussi! 東京の寿司は最高でした 🍣🎉👍  "},
    {id: "long-en", document: review(1, 14)}
];

describe("extraction engine routes", () => {
    let modelPath = "";
    let onePass: ExtractionEngine | undefined;
    let threePass: ExtractionEngine;
    const options = (route: "one-pass" | "three-pass"): ExtractionEngineOptions =>
        ({modelPath, route, gpu: false, threads: 1, contexts: 1, contextSize: 1024, batchSize: 64});

    before(async () => {
        modelPath = await tinyModel();
        threePass = await ExtractionEngine.load(options("three-pass"));
    });
    after(async () => {
        await onePass?.close();
        await threePass?.close();
    });

    it("loads the one-pass route: the node-llama-cpp internals it reads are still there", async () => {
        try {
            onePass = await ExtractionEngine.load(options("one-pass"));
        } catch (error) {
            assert.fail(`the one-pass route no longer loads, so "auto" falls back to the ~3x slower three-pass route: ` +
                `node-llama-cpp's internals changed, adapt packages/worker/src/engine/one-pass-evaluator.ts (${String(error)})`);
        }
        assert.equal(onePass.route, "one-pass");
        assert.equal(threePass.route, "three-pass");
    });

    it(`gives the same 32 attributes as the public-API three-pass route, within ${TOLERANCE}`, async (t) => {
        assert.ok(onePass !== undefined, "the one-pass route did not load (see the test above)");
        const reference = await ReferenceModel.load(modelPath);
        for (const {id, document} of DOCUMENTS) {
            const tokens = threePass.tokenizePrompt(buildReaskPrompt(DEFAULT_PROMPT_TEXT, prepareDocumentText(document, DEFAULT_MAX_DOCUMENT_CHARS), DEFAULT_TRAILING_INSTRUCTION));
            assert.deepEqual(onePass.tokenizePrompt(buildReaskPrompt(DEFAULT_PROMPT_TEXT, prepareDocumentText(document, DEFAULT_MAX_DOCUMENT_CHARS), DEFAULT_TRAILING_INSTRUCTION)), tokens);
            // see NEAR_TIE
            const margins = Array.from(reference.forward(tokens).minRouterMargin);
            const minMargin = Math.min(...margins);
            assert.ok(minMargin >= NEAR_TIE,
                `${id}: position ${margins.indexOf(minMargin)} has a router near-tie (margin ${minMargin.toExponential(2)} < ${NEAR_TIE}), ` +
                "where the routes' rounding may pick different experts: choose another document (see NEAR_TIE)");

            const one = await onePass.extract(tokens);
            const three = await threePass.extract(tokens);
            assert.equal(one.length, ATTRIBUTE_COUNT);
            assert.equal(three.length, ATTRIBUTE_COUNT);
            const differences = one.map((value, i) => Math.abs(value - (three[i] as number)));
            const worst = differences.indexOf(Math.max(...differences));
            t.diagnostic(`${id}: ${tokens.length} tokens, smallest router margin ${minMargin.toExponential(2)}, max |one-pass - three-pass| ${(differences[worst] as number).toExponential(2)} at a${worst}`);
            differences.forEach((difference, i) =>
                assert.ok(difference <= TOLERANCE, `${id}: a${i} is ${one[i]} by the one-pass route, ${three[i]} by the three-pass route (|diff| ${difference.toExponential(2)} > ${TOLERANCE})`));
        }
    });
});
