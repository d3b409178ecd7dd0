import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {
    encodedByteLength,
    encodeF16,
    encodeF32,
    encodeGgmlValues,
    encodeQ8_0,
    float16BitsToFloat32,
    float32ToFloat16Bits
} from "./ggml-quantize.ts";
import {GgmlType} from "./gguf-types.ts";

describe("float32ToFloat16Bits", () => {
    it("converts exact values", () => {
        assert.equal(float32ToFloat16Bits(0), 0x0000);
        assert.equal(float32ToFloat16Bits(-0), 0x8000);
        assert.equal(float32ToFloat16Bits(1), 0x3c00);
        assert.equal(float32ToFloat16Bits(-2), 0xc000);
        assert.equal(float32ToFloat16Bits(0.5), 0x3800);
        assert.equal(float32ToFloat16Bits(65504), 0x7bff);
        assert.equal(float32ToFloat16Bits(2 ** -14), 0x0400); // smallest normal
        assert.equal(float32ToFloat16Bits(2 ** -24), 0x0001); // smallest subnormal
    });

    it("rounds to nearest, ties to even, in normal and subnormal ranges", () => {
        assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00); // tie, even stays
        assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, odd rounds up
        assert.equal(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // above the tie
        assert.equal(float32ToFloat16Bits(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal
        assert.equal(float32ToFloat16Bits(3 * 2 ** -25), 0x0002);
        assert.equal(float32ToFloat16Bits(2 ** -26), 0x0000);
        assert.equal(float32ToFloat16Bits(2 ** -14 - 2 ** -26), 0x0400); // rounds up into the normals
    });

    it("overflows to infinity and keeps NaN a NaN", () => {
        assert.equal(float32ToFloat16Bits(65520), 0x7c00); // halfway above the max rounds to inf
        assert.equal(float32ToFloat16Bits(65519), 0x7bff);
        assert.equal(float32ToFloat16Bits(1e10), 0x7c00);
        assert.equal(float32ToFloat16Bits(-Infinity), 0xfc00);
        const nan = float32ToFloat16Bits(Number.NaN);
        assert.equal(nan & 0x7c00, 0x7c00);
        assert.notEqual(nan & 0x3ff, 0);
    });

    it("round-trips every non-NaN half", () => {
        for (let bits = 0; bits < 0x10000; bits++) {
            const value = float16BitsToFloat32(bits);
            if (Number.isNaN(value)) continue;
            assert.equal(float32ToFloat16Bits(value), bits, `bits 0x${bits.toString(16)}`);
        }
    });
});

describe("encodeF32 / encodeF16", () => {
    it("writes little-endian values at the offset", () => {
        const dst = new Uint8Array(2 + 8);
        assert.equal(encodeF32(Float32Array.of(1, -2), dst, 2), 8);
        assert.deepEqual([...dst], [0, 0, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
        const half = new Uint8Array(4);
        assert.equal(encodeF16(Float32Array.of(1, -2), half, 0), 4);
        assert.deepEqual([...half], [0x00, 0x3c, 0x00, 0xc0]);
    });
});

describe("encodeQ8_0", () => {
    function decode(block: Uint8Array): {d: number; q: number[]} {
        const d = float16BitsToFloat32((block[0] as number) | ((block[1] as number) << 8));
        return {d, q: [...new Int8Array(block.buffer, block.byteOffset + 2, 32)]};
    }

    it("stores d = max|x| / 127 as f16 and q = round(x / d)", () => {
        const src = new Float32Array(32).map((_, i) => (i - 16) * 0.25); // max |x| = 4
        const dst = new Uint8Array(34);
        assert.equal(encodeQ8_0(src, dst, 0), 34);
        const {d, q} = decode(dst);
        assert.equal(d, float16BitsToFloat32(float32ToFloat16Bits(4 / 127)));
        assert.equal(q[0], -127);
        assert.equal(q[16], 0);
        for (let i = 0; i < 32; i++)
            assert.ok(Math.abs((q[i] as number) * d - (src[i] as number)) <= d / 2 + 1e-3, `value ${i}`);
    });

    it("rounds halves away from zero and writes an all-zero block for zeros", () => {
        const src = new Float32Array(64);
        src[0] = 127; // d = 1 exactly, so x / d is x itself
        src[1] = 2.5;
        src[2] = -2.5;
        src[3] = 0.49;
        const dst = new Uint8Array(68);
        encodeQ8_0(src, dst, 0);
        const {d, q} = decode(dst);
        assert.equal(d, 1);
        assert.deepEqual(q.slice(0, 4), [127, 3, -3, 0]);
        assert.deepEqual([...dst.subarray(34)], new Array(34).fill(0));
    });

    it("rejects a partial block", () => {
        assert.throws(() => encodeQ8_0(new Float32Array(33), new Uint8Array(100), 0), RangeError);
    });
});

describe("encodeGgmlValues", () => {
    it("dispatches by type and agrees with encodedByteLength", () => {
        const src = new Float32Array(64).map((_, i) => Math.sin(i));
        for (const type of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0]) {
            const dst = new Uint8Array(encodedByteLength(type, src.length));
            assert.equal(encodeGgmlValues(type, src, dst, 0), dst.length);
        }
        assert.throws(() => encodeGgmlValues(GgmlType.Q4_0, src, new Uint8Array(64), 0), {code: "INVALID_ARGUMENT"});
    });
});
