import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {ATTRIBUTE_COUNT, ATTRIBUTE_NAMES} from "./attribute-definitions.ts";
import {computeAttributes, groupMeans, toAttributeValue} from "./compute-attributes.ts";

const E = 16; // 8 groups of 2

function inputs(overrides: Partial<Parameters<typeof computeAttributes>[0]> = {}) {
    return {
        maxLogits: [10, 30, 20],
        secondLogits: [5, 10, 19],
        hiddenMean: Array.from({length: E}, (_, i) => i / 10),
        hiddenLast: Array.from({length: E}, (_, i) => -i / 20),
        yesLogit: 15,
        noLogit: -5,
        ...overrides
    };
}

describe("computeAttributes", () => {
    it("names 32 attributes and returns 32 values", () => {
        assert.equal(ATTRIBUTE_NAMES.length, ATTRIBUTE_COUNT);
        assert.equal(new Set(ATTRIBUTE_NAMES).size, ATTRIBUTE_COUNT);
        assert.equal(computeAttributes(inputs()).length, ATTRIBUTE_COUNT);
    });

    it("computes the seed's definition on a hand-worked example", () => {
        const a = computeAttributes(inputs());
        const f = Math.fround;
        // m = [.1, .3, .2], s = [.05, .1, .19], d = [.05, .2, .01]
        const d = [0.1 - 0.05, 0.3 - 0.1, 0.2 - 0.19];
        assert.deepEqual(a.slice(0, 9), [
            f(0.3), f(0.1), f((0.1 + 0.3 + 0.2) / 3),
            f(0.19), f(0.05), f((0.05 + 0.1 + 0.19) / 3),
            f(d[1] as number), f(d[2] as number), f(((d[0] as number) + (d[1] as number) + (d[2] as number)) / 3)
        ]);
        // group g of hiddenMean = mean(2g/10, (2g+1)/10) = (4g+1)/20
        for (let g = 0; g < 8; g++) assert.equal(a[9 + g], f((4 * g + 1) / 20));
        for (let g = 0; g < 8; g++) assert.equal(a[17 + g], f(-(4 * g + 1) / 40));
        // last position: m_T = .2, s_T = .19, yes = .15, no = -.05
        assert.equal(a[25], f(0.2 - 0.15));
        assert.equal(a[26], f(0.2 + 0.05));
        assert.equal(a[27], f(0.2));
        assert.equal(a[28], f(0.19));
        assert.equal(a[29], f(0.2 - 0.19));
        assert.equal(a[30], f(0.15));
        assert.equal(a[31], f(-0.05));
    });

    it("clips every value to [-2, 2]", () => {
        const a = computeAttributes(inputs({maxLogits: [500, 900], secondLogits: [-300, 100], yesLogit: -1000, noLogit: 250}));
        assert.equal(a[0], 2); // max m = 9
        assert.equal(a[4], -2); // min s = -3
        assert.equal(a[25], 2); // m_T - yes = 19
        assert.equal(a[30], -2);
        assert.equal(a[31], 2);
        for (const value of a) assert.ok(value >= -2 && value <= 2);
    });

    it("writes float32-exact values and no negative zero", () => {
        const a = computeAttributes(inputs({hiddenLast: Array.from({length: E}, () => -0)}));
        for (const value of a) assert.equal(Math.fround(value), value);
        assert.ok(!Object.is(a[17], -0));
    });

    it("rejects NaN and mismatched lengths", () => {
        assert.throws(() => toAttributeValue(Number.NaN), /NaN/);
        assert.throws(() => computeAttributes(inputs({secondLogits: [1]})), /equal/);
        assert.throws(() => groupMeans([1, 2, 3]), /multiple of 8/);
    });
});
