import {OrchardError} from "@orchard/shared";
import type {LlamaContextSequence, Token} from "node-llama-cpp";

/**
 * Teacher-forced log-probabilities of several continuations of one prompt, on one context
 * sequence: the prefix is decoded once (from a cleared sequence, so the result never depends on
 * what the context held before), then each continuation in turn, its tokens erased again before
 * the next. log P(c | prefix) = sum over c's tokens of the log-softmax, over the whole vocabulary,
 * of the logits at the position before it. Decodes go in chunks of at most `chunkSize` tokens.
 */
export async function scoreContinuations(
    sequence: LlamaContextSequence,
    chunkSize: number,
    prefix: readonly number[],
    continuations: readonly (readonly number[])[]
): Promise<number[]> {
    if (prefix.length === 0) throw new RangeError("a prefix has at least BOS");
    await sequence.clearHistory();
    const prefixLogits = await decode(sequence, chunkSize, prefix, true);
    const last = prefixLogits[prefixLogits.length - 1] as Map<number, number>;
    const scores: number[] = [];
    for (const continuation of continuations) {
        if (continuation.length === 0) throw new RangeError("a continuation has at least one token");
        let logProbability = logSoftmaxAt(last, continuation[0] as number);
        if (continuation.length > 1) {
            // the last token is scored, never decoded: nothing follows it
            const logits = await decode(sequence, chunkSize, continuation.slice(0, -1), false);
            for (let i = 1; i < continuation.length; i++) logProbability += logSoftmaxAt(logits[i - 1] as Map<number, number>, continuation[i] as number);
            await sequence.eraseContextTokenRanges([{start: prefix.length, end: sequence.nextTokenIndex}]);
        }
        scores.push(logProbability);
    }
    return scores;
}

/** Decodes `tokens` and returns the full logits at every position (`lastOnly`: at the last one only). */
async function decode(sequence: LlamaContextSequence, chunkSize: number, tokens: readonly number[], lastOnly: boolean): Promise<Map<number, number>[]> {
    const logits: Map<number, number>[] = [];
    for (let start = 0; start < tokens.length; start += chunkSize) {
        const chunk = tokens.slice(start, start + chunkSize);
        const outputs = await sequence.controlledEvaluate(chunk.map((token, i) =>
            (!lastOnly || start + i === tokens.length - 1 ? [token as Token, {generateNext: {logits: true}}] : token as Token)));
        for (let i = 0; i < chunk.length; i++) {
            if (lastOnly && start + i !== tokens.length - 1) continue;
            const values = outputs[i]?.next.logits;
            if (values == null) throw new OrchardError("ENGINE_FAILED", `no logits returned for position ${sequence.nextTokenIndex - chunk.length + i}`, {retryable: true});
            logits.push(values as Map<number, number>);
        }
    }
    return logits;
}

/** log softmax(logits)[token], in float64 over the whole vocabulary (max-shifted, so no overflow). */
function logSoftmaxAt(logits: ReadonlyMap<number, number>, token: number): number {
    const value = logits.get(token);
    if (value === undefined) throw new OrchardError("ENGINE_FAILED", `logit of token ${token} missing`);
    let max = -Infinity;
    for (const logit of logits.values()) if (logit > max) max = logit;
    let sum = 0;
    for (const logit of logits.values()) sum += Math.exp(logit - max);
    return value - max - Math.log(sum);
}
