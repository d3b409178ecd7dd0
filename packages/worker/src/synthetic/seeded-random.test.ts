import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {SeededRandom} from "./seeded-random.ts";

describe("SeededRandom", () => {
    it("produces pinned values, so a model synthesized anywhere has the same bytes", () => {
        const random = SeededRandom.forStream(1, "token_embd.weight");
        assert.deepEqual([random.nextUint32(), random.nextUint32(), random.nextUint32()], [3605150951, 230287985, 3682581480]);
        const gaussians = new Float32Array(4);
        SeededRandom.forStream(42, "blk.0.attn_q.weight").fillGaussian(gaussians);
        assert.deepEqual([...gaussians], [0.07322106510400772, 1.5660542249679565, 1.1177269220352173, 0.42643773555755615]);
    });

    it("gives independent streams per seed and per name", () => {
        const first = (seed: number, name: string): number => SeededRandom.forStream(seed, name).nextUint32();
        assert.equal(first(7, "a"), first(7, "a"));
        assert.notEqual(first(7, "a"), first(8, "a"));
        assert.notEqual(first(7, "a"), first(7, "b"));
        assert.notEqual(first(1, "a"), first(1 + 2 ** 32, "a")); // high seed bits count too
    });

    it("fillGaussian matches nextGaussian one by one, across odd chunk boundaries", () => {
        const one = SeededRandom.forStream(3, "x");
        const expected = Float32Array.from({length: 101}, () => one.nextGaussian());
        const bulk = SeededRandom.forStream(3, "x");
        const actual = new Float32Array(101);
        bulk.fillGaussian(actual.subarray(0, 33));
        bulk.fillGaussian(actual.subarray(33, 34));
        bulk.fillGaussian(actual.subarray(34));
        assert.deepEqual(actual, expected);
    });

    it("draws standard normals and uniform floats", () => {
        const values = new Float32Array(200_000);
        SeededRandom.forStream(5, "stats").fillGaussian(values, 2, 3);
        let sum = 0;
        let squares = 0;
        for (const v of values) {
            sum += v;
            squares += v * v;
        }
        const mean = sum / values.length;
        assert.ok(Math.abs(mean - 2) < 0.03, `mean ${mean}`);
        assert.ok(Math.abs(Math.sqrt(squares / values.length - mean * mean) - 3) < 0.03);

        const random = SeededRandom.forStream(5, "uniform");
        for (let i = 0; i < 1000; i++) {
            const u = random.nextFloat();
            assert.ok(u >= 0 && u < 1);
        }
    });

    it("rejects seeds that are not non-negative safe integers", () => {
        for (const seed of [-1, 1.5, Number.NaN, 2 ** 53])
            assert.throws(() => SeededRandom.forStream(seed, "x"), RangeError);
    });
});
