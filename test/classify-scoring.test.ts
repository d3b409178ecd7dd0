import assert from "node:assert/strict";
import {after, before, describe, it} from "node:test";
import {buildLabelPrompt, DEFAULT_LABEL_PROMPT, labelAnswerText} from "@orchard/shared";
import {ExtractionEngine, type ExtractionEngineOptions} from "@orchard/worker";
import {tinyModel} from "./support/orchard-cli.ts";
import {ReferenceModel} from "./support/reference-model.ts";

// Stage 1 of a classify task scores each label's answer by teacher forcing
// (ExtractionEngine.scoreContinuations): the prefix once, then each answer after it, erased again
// before the next. Checked here against the float64 reference forward pass of the tiny model, fed
// the same tokens: log P(answer | prompt) = sum of log-softmax over the whole vocabulary. The
// engine's logits differ from the reference by ~1e-3 (f16 KV cache, see extract-reference.test.ts):
// measured up to 4.2e-3 on these answers of 2-3 tokens, within TOLERANCE; an earlier answer's tokens
// left in the context moved a score by 0.30, reading the logits one position off by 0.37.

const TOLERANCE = 2e-2;
/** Router near-tie threshold, as in extract-reference.test.ts: a position this close may route differently. */
const NEAR_TIE = 3e-3;
/** The document "Brilliant film." was picked for having no router near-tie at any position of any answer (smallest margin 1.3e-2). */
const LABELS = [{label: 0, name: "sad"}, {label: 1, name: "calm"}, {label: 2, name: "happy"}, {label: 3, name: "happy enough"}];

function logSoftmax(logits: Float64Array, token: number): number {
    let max = -Infinity;
    for (const value of logits) if (value > max) max = value;
    let sum = 0;
    for (const value of logits) sum += Math.exp(value - max);
    return (logits[token] as number) - max - Math.log(sum);
}

describe("label scoring by teacher forcing", () => {
    let modelPath = "";
    const engines: ExtractionEngine[] = [];
    const options = (route: "one-pass" | "three-pass"): ExtractionEngineOptions =>
        ({modelPath, route, gpu: false, threads: 1, contexts: 1, contextSize: 1024, batchSize: 64});

    before(async () => {
        modelPath = await tinyModel();
    });
    after(async () => {
        for (const engine of engines) await engine.close();
    });

    for (const route of ["one-pass", "three-pass"] as const) {
        it(`${route}: equals the float64 reference's answer log-probabilities, whatever was scored before`, async (t) => {
            const engine = await ExtractionEngine.load(options(route));
            engines.push(engine);
            const reference = await ReferenceModel.load(modelPath);
            const prompt = buildLabelPrompt(DEFAULT_LABEL_PROMPT, "Please classify the sentiment of the following review. Review:", "Brilliant film.", LABELS);
            const answers = LABELS.map((entry) => [...engine.tokenizePrompt(prompt + labelAnswerText(entry)), engine.eosToken]);
            const prefix = engine.tokenizePrompt(prompt);
            for (const answer of answers) assert.deepEqual(answer.slice(0, prefix.length), prefix, "every answer starts with the prompt's tokens");
            const continuations = answers.map((answer) => answer.slice(prefix.length));
            // "happy enough" starts with "happy": the EOS is what tells the two answers apart
            assert.deepEqual(continuations[3]?.slice(0, continuations[2]!.length - 1), continuations[2]?.slice(0, -1));

            const scores = await engine.scoreContinuations(prefix, continuations);
            for (const [i, continuation] of continuations.entries()) {
                let expected = 0;
                for (let t = 0; t < continuation.length; t++) {
                    const forward = reference.forward([...prefix, ...continuation.slice(0, t)]);
                    const margin = Math.min(...forward.minRouterMargin);
                    assert.ok(margin >= NEAR_TIE, `${LABELS[i]?.name}: a router near-tie (${margin.toExponential(2)}), choose another text (see NEAR_TIE)`);
                    expected += logSoftmax(forward.lastLogits, continuation[t] as number);
                }
                const score = scores[i] as number;
                t.diagnostic(`${LABELS[i]?.name}: ${continuation.length} tokens, log P ${score.toFixed(4)}, |engine - reference| ${Math.abs(score - expected).toExponential(2)}`);
                assert.ok(Math.abs(score - expected) <= TOLERANCE, `${LABELS[i]?.name}: engine ${score}, reference ${expected}`);
            }
            // each answer alone, and in reverse order: the same numbers, so nothing of an earlier answer stays in the context
            const alone = [];
            for (const continuation of continuations) alone.push(...await engine.scoreContinuations(prefix, [continuation]));
            assert.deepEqual(alone, scores);
            assert.deepEqual((await engine.scoreContinuations(prefix, [...continuations].reverse())).reverse(), scores);
            // and the attributes of a re-ask after scoring are those of a fresh engine's (the context is cleared)
            const reask = engine.tokenizePrompt("[INST] How can I help you?\nReview: fine. Is it happy? Yes or No? [/INST]");
            const afterScoring = await engine.extract(reask);
            const fresh = await ExtractionEngine.load(options(route));
            engines.push(fresh);
            assert.deepEqual(afterScoring, await fresh.extract(reask));
        });
    }
});
