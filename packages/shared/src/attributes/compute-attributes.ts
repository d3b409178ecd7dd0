import {ATTRIBUTE_CLIP, ATTRIBUTE_COUNT, HIDDEN_GROUP_COUNT, LOGIT_SCALE} from "./attribute-definitions.ts";

/**
 * What one forward pass over a prompt of T positions must yield for the attributes.
 * Logits are raw (unscaled); hidden states are the final-norm outputs.
 */
export interface AttributeInputs {
    /** max over the vocabulary of the logits at each position, length T. */
    readonly maxLogits: ArrayLike<number>;
    /** second-largest logit at each position, length T. */
    readonly secondLogits: ArrayLike<number>;
    /** mean over the T positions of the final-norm hidden state, length E. */
    readonly hiddenMean: ArrayLike<number>;
    /** final-norm hidden state at the last position, length E. */
    readonly hiddenLast: ArrayLike<number>;
    /** logit of the Yes token at the last position. */
    readonly yesLogit: number;
    /** logit of the No token at the last position. */
    readonly noLogit: number;
}

/**
 * The 32 attributes, in the fixed order of ATTRIBUTE_NAMES, computed in float64, clipped to
 * [-2, 2] and rounded to float32 so that every machine writes the same bytes for the same inputs.
 */
export function computeAttributes(inputs: AttributeInputs): number[] {
    const T = inputs.maxLogits.length;
    if (T === 0 || inputs.secondLogits.length !== T)
        throw new RangeError(`attribute inputs need equal, non-empty per-position arrays (got ${T} and ${inputs.secondLogits.length})`);

    const m = new Float64Array(T);
    const s = new Float64Array(T);
    const d = new Float64Array(T);
    for (let t = 0; t < T; t++) {
        m[t] = (inputs.maxLogits[t] as number) / LOGIT_SCALE;
        s[t] = (inputs.secondLogits[t] as number) / LOGIT_SCALE;
        d[t] = (m[t] as number) - (s[t] as number);
    }

    const last = T - 1;
    const mT = m[last] as number;
    const sT = s[last] as number;
    const yes = inputs.yesLogit / LOGIT_SCALE;
    const no = inputs.noLogit / LOGIT_SCALE;

    const values = [
        ...maxMinMean(m), ...maxMinMean(s), ...maxMinMean(d),
        ...groupMeans(inputs.hiddenMean),
        ...groupMeans(inputs.hiddenLast),
        mT - yes, mT - no, mT, sT, mT - sT, yes, no
    ];
    if (values.length !== ATTRIBUTE_COUNT)
        throw new Error(`internal: computed ${values.length} attributes, expected ${ATTRIBUTE_COUNT}`);
    return values.map(toAttributeValue);
}

/** Clip to [-2, 2] and round to the nearest float32; NaN is a bug upstream and is rejected. */
export function toAttributeValue(value: number): number {
    if (Number.isNaN(value))
        throw new RangeError("attribute value is NaN: the forward pass produced non-finite numbers");
    const clipped = Math.min(ATTRIBUTE_CLIP, Math.max(-ATTRIBUTE_CLIP, value));
    // fround of a value already in float32 range; +0 normalizes -0 so output bytes are stable
    return Math.fround(clipped) + 0;
}

function maxMinMean(values: Float64Array): [number, number, number] {
    let max = -Infinity;
    let min = Infinity;
    let sum = 0;
    for (const v of values) {
        if (v > max) max = v;
        if (v < min) min = v;
        sum += v;
    }
    return [max, min, sum / values.length];
}

/** Averages of HIDDEN_GROUP_COUNT contiguous, equal groups of the vector. */
export function groupMeans(vector: ArrayLike<number>): number[] {
    const n = vector.length;
    if (n === 0 || n % HIDDEN_GROUP_COUNT !== 0)
        throw new RangeError(`hidden size ${n} is not a positive multiple of ${HIDDEN_GROUP_COUNT}`);
    const groupSize = n / HIDDEN_GROUP_COUNT;
    const means: number[] = [];
    for (let g = 0; g < HIDDEN_GROUP_COUNT; g++) {
        let sum = 0;
        for (let i = g * groupSize; i < (g + 1) * groupSize; i++)
            sum += vector[i] as number;
        means.push(sum / groupSize);
    }
    return means;
}
