/** The two largest values of a map of token -> logit (an entry may be missing if the vocabulary is 1). */
export function topTwoLogits(logits: ReadonlyMap<number, number>): [number, number] {
    let first = -Infinity;
    let second = -Infinity;
    for (const value of logits.values()) {
        if (value > first) {
            second = first;
            first = value;
        } else if (value > second)
            second = value;
    }
    return [first, second];
}
