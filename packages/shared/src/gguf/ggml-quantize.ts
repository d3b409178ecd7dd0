import {OrchardError} from "../errors/orchard-error.ts";
import {GGML_TYPE_LAYOUT, GgmlType} from "./gguf-types.ts";

/**
 * f32 -> ggml tensor bytes for the types the synthetic-model writer emits. All output is
 * little-endian byte by byte, whatever the host's endianness, so files are identical everywhere.
 */

// One shared scratch word to read a float32's bit pattern without allocating.
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** IEEE binary16 bits of `value` rounded to nearest, ties to even (as F16C and ggml's fallback do). */
export function float32ToFloat16Bits(value: number): number {
    scratchFloat[0] = value;
    return float32BitsToFloat16Bits(scratchBits[0] as number);
}

/** The float32 value of IEEE binary16 bits (exact: every f16 is representable in f32). */
export function float16BitsToFloat32(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0)
        return sign * mantissa * 2 ** -24;
    if (exponent === 0x1f)
        return mantissa === 0 ? sign * Infinity : Number.NaN;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function float32BitsToFloat16Bits(x: number): number {
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) // inf stays inf; NaN stays a (quiet) NaN
        return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
    const halfExponent = exponent - 112; // rebias 127 -> 15
    if (halfExponent >= 0x1f)
        return sign | 0x7c00;
    if (halfExponent <= 0) {
        // subnormal half (or zero): value = m * 2^-24 with m from the 24-bit significand
        if (halfExponent < -10)
            return sign;
        const significand = mantissa | 0x800000;
        const shift = 14 - halfExponent;
        const halfway = 1 << (shift - 1);
        const remainder = significand & ((1 << shift) - 1);
        let m = significand >>> shift;
        if (remainder > halfway || (remainder === halfway && (m & 1) !== 0))
            m++; // a carry into bit 10 correctly yields the smallest normal
        return sign | m;
    }
    const remainder = mantissa & 0x1fff;
    let half = sign | (halfExponent << 10) | (mantissa >>> 13);
    if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) !== 0))
        half++; // a carry into the exponent is the correct rounding, up to inf
    return half;
}

/** Writes `src` as little-endian f32 at `dst[offset]`; returns the bytes written. */
export function encodeF32(src: Float32Array, dst: Uint8Array, offset: number): number {
    const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    for (let i = 0; i < src.length; i++)
        view.setFloat32(offset + 4 * i, src[i] as number, true);
    return src.length * 4;
}

/** Writes `src` as little-endian f16 at `dst[offset]`; returns the bytes written. */
export function encodeF16(src: Float32Array, dst: Uint8Array, offset: number): number {
    const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0, o = offset; i < bits.length; i++, o += 2) {
        const half = float32BitsToFloat16Bits(bits[i] as number);
        dst[o] = half & 0xff;
        dst[o + 1] = half >>> 8;
    }
    return src.length * 2;
}

/**
 * Writes `src` as q8_0 blocks at `dst[offset]`; returns the bytes written. Each block of 32 values
 * is an f16 scale d = max|x| / 127 followed by 32 int8 q = round(x / d), computed as ggml's
 * reference quantize_row_q8_0_ref (and gguf-py) do: float32 arithmetic, x * (1/d), round half away
 * from zero. `src.length` must be a multiple of 32.
 */
export function encodeQ8_0(src: Float32Array, dst: Uint8Array, offset: number): number {
    const {blockSize, bytesPerBlock} = GGML_TYPE_LAYOUT[GgmlType.Q8_0];
    if (src.length % blockSize !== 0)
        throw new RangeError(`q8_0 needs a multiple of ${blockSize} values, got ${src.length}`);
    const fround = Math.fround;
    let o = offset;
    for (let block = 0; block < src.length; block += blockSize) {
        let amax = 0;
        for (let j = 0; j < blockSize; j++) {
            const a = Math.abs(src[block + j] as number);
            if (a > amax) amax = a;
        }
        const d = fround(amax / 127);
        const id = d !== 0 ? fround(1 / d) : 0;
        const dBits = float32ToFloat16Bits(d);
        dst[o] = dBits & 0xff;
        dst[o + 1] = dBits >>> 8;
        for (let j = 0; j < blockSize; j++) {
            const x = fround((src[block + j] as number) * id);
            const q = x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
            dst[o + 2 + j] = q & 0xff; // two's complement int8
        }
        o += bytesPerBlock;
    }
    return o - offset;
}

/** Encodes f32 values into `type` at `dst[offset]`; returns the bytes written. */
export function encodeGgmlValues(type: GgmlType, src: Float32Array, dst: Uint8Array, offset: number): number {
    switch (type) {
        case GgmlType.F32: return encodeF32(src, dst, offset);
        case GgmlType.F16: return encodeF16(src, dst, offset);
        case GgmlType.Q8_0: return encodeQ8_0(src, dst, offset);
        default:
            throw new OrchardError("INVALID_ARGUMENT", `encoding ${GgmlType[type]} tensors is not supported (only F32, F16, Q8_0)`);
    }
}

/** Bytes that `count` values occupy once encoded as `type` (count must be whole blocks). */
export function encodedByteLength(type: GgmlType, count: number): number {
    const {blockSize, bytesPerBlock} = GGML_TYPE_LAYOUT[type];
    if (count % blockSize !== 0)
        throw new RangeError(`${count} values are not a whole number of ${GgmlType[type]} blocks`);
    return (count / blockSize) * bytesPerBlock;
}
