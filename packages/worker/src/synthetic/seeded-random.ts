/**
 * A small, fast, seeded random source for synthetic weights.
 *
 * Uniform bits come from xoshiro128** in 32-bit integer arithmetic (Math.imul, >>>), so the stream
 * is bit-identical on every machine. Gaussians use Marsaglia's polar method, which needs only
 * Math.sqrt (exact under IEEE 754) and Math.log; V8 computes Math.log with its own software fdlibm
 * port rather than the platform libm, so the values are identical across machines and OSes too.
 */
export class SeededRandom {
    private s0: number;
    private s1: number;
    private s2: number;
    private s3: number;
    /** Second value of the last polar pair, or NaN when none is waiting. */
    private spare = Number.NaN;

    private constructor(s0: number, s1: number, s2: number, s3: number) {
        this.s0 = s0;
        this.s1 = s1;
        this.s2 = s2;
        this.s3 = s3;
    }

    /**
     * A generator for one named stream under a seed. Each tensor draws from its own stream, so its
     * values do not depend on which tensors were generated before it (or whether they were at all).
     */
    public static forStream(seed: number, stream: string): SeededRandom {
        if (!Number.isSafeInteger(seed) || seed < 0)
            throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
        // splitmix32 over (seed low, seed high, stream hash) gives four well-mixed, non-zero state words
        let x = mix32((seed >>> 0) ^ 0x9e3779b9);
        x = mix32(x ^ Math.floor(seed / 0x100000000));
        x = mix32(x ^ fnv1a32(stream));
        const s0 = x = mix32(x + 0x9e3779b9);
        const s1 = x = mix32(x + 0x9e3779b9);
        const s2 = x = mix32(x + 0x9e3779b9);
        const s3 = mix32(x + 0x9e3779b9);
        // the all-zero state is xoshiro's only fixed point
        return new SeededRandom(s0, s1, s2, (s0 | s1 | s2 | s3) === 0 ? 1 : s3);
    }

    /** Next uniform 32-bit unsigned integer (xoshiro128**). */
    public nextUint32(): number {
        const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
        const t = this.s1 << 9;
        this.s2 ^= this.s0;
        this.s3 ^= this.s1;
        this.s1 ^= this.s2;
        this.s0 ^= this.s3;
        this.s2 ^= t;
        this.s3 = rotl(this.s3, 11);
        return result;
    }

    /** Uniform in [0, 1) with 32 random bits. */
    public nextFloat(): number {
        return this.nextUint32() / 0x100000000;
    }

    /** Standard normal N(0, 1). */
    public nextGaussian(): number {
        if (!Number.isNaN(this.spare)) {
            const value = this.spare;
            this.spare = Number.NaN;
            return value;
        }
        for (;;) {
            // uniforms in (-1, 1); 2^-31 steps are plenty for weights
            const u = this.nextUint32() / 0x80000000 - 1;
            const v = this.nextUint32() / 0x80000000 - 1;
            const s = u * u + v * v;
            if (s >= 1 || s === 0)
                continue;
            const factor = Math.sqrt(-2 * Math.log(s) / s);
            this.spare = v * factor;
            return u * factor;
        }
    }

    /**
     * Fills `out` with mean + std * N(0, 1); the same values, in the same order, as calling
     * nextGaussian() per element. Inlined with the state in locals because it generates every
     * weight of a model (tens of billions for the full-size preset).
     */
    public fillGaussian(out: Float32Array, mean = 0, std = 1): void {
        let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
        let i = 0;
        const n = out.length;
        if (n > 0 && !Number.isNaN(this.spare)) {
            out[i++] = mean + std * this.spare;
            this.spare = Number.NaN;
        }
        while (i < n) {
            let r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
            let t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
            const u = r / 0x80000000 - 1;
            r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
            t = s1 << 9;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
            const v = r / 0x80000000 - 1;
            const s = u * u + v * v;
            if (s >= 1 || s === 0)
                continue;
            const factor = Math.sqrt(-2 * Math.log(s) / s);
            out[i++] = mean + std * (u * factor);
            if (i < n)
                out[i++] = mean + std * (v * factor);
            else
                this.spare = v * factor;
        }
        this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    }
}

function rotl(x: number, k: number): number {
    return (x << k) | (x >>> (32 - k));
}

/** splitmix32 finalizer: a bijective avalanche of a 32-bit word. */
function mix32(value: number): number {
    let z = value >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`. */
function fnv1a32(text: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++)
        hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return hash >>> 0;
}
