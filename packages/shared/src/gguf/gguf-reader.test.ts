import assert from "node:assert/strict";
import {mkdtemp, open, rm, truncate, writeFile, mkdir} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {readGgufFileInfo} from "node-llama-cpp";
import {OrchardError} from "../errors/orchard-error.ts";
import {dequantizeGgml, GgufReader, halfToFloat, readGgufHeader, readGgufTensor} from "./gguf-reader.ts";
import {alignUp, GGUF_MAGIC, GgmlType, GgufValueType, ggmlTensorBytes, type GgufMetadataValue} from "./gguf-types.ts";

// The reader is tested against files built here byte by byte rather than with the project's writer,
// so that a shared misreading of the spec cannot make both sides agree.

interface FixtureTensor {
    readonly name: string;
    readonly shape: readonly number[];
    readonly type: GgmlType;
    readonly data: Uint8Array;
}

class ByteSink {
    private readonly parts: Buffer[] = [];
    public length = 0;

    public push(buffer: Buffer): void {
        this.parts.push(buffer);
        this.length += buffer.length;
    }
    public u32(value: number): void {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(value);
        this.push(b);
    }
    public u64(value: number | bigint): void {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt(value));
        this.push(b);
    }
    public string(value: string): void {
        const bytes = Buffer.from(value, "utf8");
        this.u64(bytes.length);
        this.push(bytes);
    }
    public scalar(type: GgufValueType, value: string | number | bigint | boolean): void {
        const b = Buffer.alloc(8);
        switch (type) {
            case GgufValueType.UINT8: b.writeUInt8(value as number); return this.push(b.subarray(0, 1));
            case GgufValueType.INT8: b.writeInt8(value as number); return this.push(b.subarray(0, 1));
            case GgufValueType.BOOL: b.writeUInt8(value ? 1 : 0); return this.push(b.subarray(0, 1));
            case GgufValueType.UINT16: b.writeUInt16LE(value as number); return this.push(b.subarray(0, 2));
            case GgufValueType.INT16: b.writeInt16LE(value as number); return this.push(b.subarray(0, 2));
            case GgufValueType.UINT32: b.writeUInt32LE(value as number); return this.push(b.subarray(0, 4));
            case GgufValueType.INT32: b.writeInt32LE(value as number); return this.push(b.subarray(0, 4));
            case GgufValueType.FLOAT32: b.writeFloatLE(value as number); return this.push(b.subarray(0, 4));
            case GgufValueType.UINT64: b.writeBigUInt64LE(BigInt(value as bigint)); return this.push(b);
            case GgufValueType.INT64: b.writeBigInt64LE(BigInt(value as bigint)); return this.push(b);
            case GgufValueType.FLOAT64: b.writeDoubleLE(value as number); return this.push(b);
            case GgufValueType.STRING: return this.string(value as string);
            default: throw new Error(`fixture cannot write type ${type}`);
        }
    }
    public concat(): Buffer {
        return Buffer.concat(this.parts);
    }
}

/** Serializes a GGUF file; `dataBytes` overrides the data section's size (for sparse 50 GB files). */
function buildGguf(options: {
    metadata: ReadonlyMap<string, GgufMetadataValue>;
    tensors: readonly FixtureTensor[];
    version?: number;
    alignment?: number;
}): {header: Buffer; data: Buffer; offsets: number[]} {
    const alignment = options.alignment ?? 32;
    const sink = new ByteSink();
    sink.u32(GGUF_MAGIC);
    sink.u32(options.version ?? 3);
    sink.u64(options.tensors.length);
    sink.u64(options.metadata.size);
    for (const [key, entry] of options.metadata) {
        sink.string(key);
        sink.u32(entry.type);
        if (entry.type === GgufValueType.ARRAY) {
            sink.u32(entry.elementType);
            sink.u64(entry.value.length);
            for (const v of entry.value) sink.scalar(entry.elementType, v);
        } else {
            sink.scalar(entry.type, entry.value);
        }
    }
    const offsets: number[] = [];
    let offset = 0;
    for (const tensor of options.tensors) {
        sink.string(tensor.name);
        sink.u32(tensor.shape.length);
        for (const d of tensor.shape) sink.u64(d);
        sink.u32(tensor.type);
        sink.u64(offset);
        offsets.push(offset);
        offset = alignUp(offset + tensor.data.length, alignment);
    }
    sink.push(Buffer.alloc(alignUp(sink.length, alignment) - sink.length));
    const data = Buffer.alloc(offset);
    options.tensors.forEach((tensor, i) => data.set(tensor.data, offsets[i]));
    return {header: sink.concat(), data, offsets};
}

function floatToHalf(value: number): number {
    // exact for the values the fixtures use (small integers times powers of two); round-to-nearest otherwise
    const f32 = new Float32Array([value]);
    const bits = new Uint32Array(f32.buffer)[0] as number;
    const sign = (bits >>> 16) & 0x8000;
    const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    const mantissa = bits & 0x7fffff;
    if (exponent <= 0) return sign;
    if (exponent >= 0x1f) return sign | 0x7c00;
    return sign | (exponent << 10) | Math.round(mantissa / 8192);
}

function f32Bytes(values: readonly number[]): Uint8Array {
    return new Uint8Array(new Float32Array(values).buffer);
}

function f16Bytes(values: readonly number[]): Uint8Array {
    return new Uint8Array(new Uint16Array(values.map(floatToHalf)).buffer);
}

/** q8_0 blocks with scale `scale` and the given int8 quanta (length multiple of 32). */
function q8Bytes(scale: number, quanta: readonly number[]): Uint8Array {
    const out = Buffer.alloc((quanta.length / 32) * 34);
    for (let b = 0; b < quanta.length / 32; b++) {
        out.writeUInt16LE(floatToHalf(scale), b * 34);
        for (let j = 0; j < 32; j++) out.writeInt8(quanta[b * 32 + j] as number, b * 34 + 2 + j);
    }
    return out;
}

/** q4_0 blocks with scale `scale` and 4-bit quanta in 0..15 (length multiple of 32). */
function q4Bytes(scale: number, quanta: readonly number[]): Uint8Array {
    const out = Buffer.alloc((quanta.length / 32) * 18);
    for (let b = 0; b < quanta.length / 32; b++) {
        out.writeUInt16LE(floatToHalf(scale), b * 18);
        for (let j = 0; j < 16; j++)
            out.writeUInt8((quanta[b * 32 + j] as number) | ((quanta[b * 32 + j + 16] as number) << 4), b * 18 + 2 + j);
    }
    return out;
}

const VOCAB = 32000;
const f32Values = Array.from({length: 12}, (_, i) => (i - 5) * 0.375);
const f16Values = Array.from({length: 8}, (_, i) => (i - 3) * 0.25);
const q8Quanta = Array.from({length: 64}, (_, i) => ((i * 37) % 255) - 127);
const q4Quanta = Array.from({length: 64}, (_, i) => (i * 7) % 16);

function fixtureMetadata(): Map<string, GgufMetadataValue> {
    const tokens = Array.from({length: VOCAB}, (_, i) => i === 0 ? "<unk>" : i === 1 ? "<s>" : `▁tok${i}é`);
    return new Map<string, GgufMetadataValue>([
        ["general.architecture", {type: GgufValueType.STRING, value: "llama"}],
        ["general.name", {type: GgufValueType.STRING, value: "fixture ✓"}],
        ["general.alignment", {type: GgufValueType.UINT32, value: 64}],
        ["llama.block_count", {type: GgufValueType.UINT32, value: 2}],
        ["llama.attention.layer_norm_rms_epsilon", {type: GgufValueType.FLOAT32, value: Math.fround(1e-5)}],
        ["fixture.u8", {type: GgufValueType.UINT8, value: 200}],
        ["fixture.i8", {type: GgufValueType.INT8, value: -100}],
        ["fixture.u16", {type: GgufValueType.UINT16, value: 60000}],
        ["fixture.i16", {type: GgufValueType.INT16, value: -30000}],
        ["fixture.i32", {type: GgufValueType.INT32, value: -2_000_000_000}],
        ["fixture.u64", {type: GgufValueType.UINT64, value: 2n ** 63n + 7n}],
        ["fixture.i64", {type: GgufValueType.INT64, value: -(2n ** 60n)}],
        ["fixture.f64", {type: GgufValueType.FLOAT64, value: Math.PI}],
        ["fixture.bool", {type: GgufValueType.BOOL, value: true}],
        ["fixture.bools", {type: GgufValueType.ARRAY, elementType: GgufValueType.BOOL, value: [true, false, true]}],
        ["fixture.empty", {type: GgufValueType.ARRAY, elementType: GgufValueType.INT32, value: []}],
        ["tokenizer.ggml.model", {type: GgufValueType.STRING, value: "llama"}],
        ["tokenizer.ggml.tokens", {type: GgufValueType.ARRAY, elementType: GgufValueType.STRING, value: tokens}],
        ["tokenizer.ggml.scores", {type: GgufValueType.ARRAY, elementType: GgufValueType.FLOAT32, value: tokens.map((_, i) => Math.fround(-i / 7))}],
        ["tokenizer.ggml.token_type", {type: GgufValueType.ARRAY, elementType: GgufValueType.INT32, value: tokens.map((_, i) => i < 3 ? 3 : 1)}]
    ]);
}

function fixtureTensors(): FixtureTensor[] {
    return [
        {name: "t.f32", shape: [4, 3], type: GgmlType.F32, data: f32Bytes(f32Values)},
        {name: "t.f16", shape: [8], type: GgmlType.F16, data: f16Bytes(f16Values)},
        {name: "t.q8_0", shape: [32, 2], type: GgmlType.Q8_0, data: q8Bytes(0.5, q8Quanta)},
        {name: "t.q4_0", shape: [64], type: GgmlType.Q4_0, data: q4Bytes(0.125, q4Quanta)}
    ];
}

function isOrchardErrorWith(code: string, messagePart: string | RegExp): (error: unknown) => boolean {
    return (error) => {
        assert.ok(error instanceof OrchardError, `expected an OrchardError, got ${String(error)}`);
        assert.equal(error.code, code);
        if (typeof messagePart === "string") assert.ok(error.message.includes(messagePart), error.message);
        else assert.match(error.message, messagePart);
        return true;
    };
}

/** node-llama-cpp nests metadata by dotted key; flatten it back to compare key for key. */
function flatten(object: Record<string, unknown>, prefix = "", into = new Map<string, unknown>()): Map<string, unknown> {
    for (const [key, value] of Object.entries(object)) {
        const path = prefix === "" ? key : `${prefix}.${key}`;
        if (value !== null && typeof value === "object" && !Array.isArray(value)) flatten(value as Record<string, unknown>, path, into);
        else into.set(path, value);
    }
    return into;
}

describe("gguf-reader", () => {
    let dir = "";
    let fixturePath = "";
    let fixture: ReturnType<typeof buildGguf>;

    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-gguf-"));
        fixturePath = join(dir, "fixture.gguf");
        fixture = buildGguf({metadata: fixtureMetadata(), tensors: fixtureTensors(), alignment: 64});
        await writeFile(fixturePath, Buffer.concat([fixture.header, fixture.data]));
    });
    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });

    it("reads version, every metadata type, tensor infos, alignment and data offset", async () => {
        const header = await readGgufHeader(fixturePath);
        assert.equal(header.version, 3);
        assert.equal(header.alignment, 64);
        assert.equal(header.dataOffset, fixture.header.length);
        assert.equal(header.dataOffset % 64, 0);
        assert.equal(header.fileSize, fixture.header.length + fixture.data.length);
        assert.deepEqual([...header.metadata.keys()], [...fixtureMetadata().keys()]);
        for (const [key, expected] of fixtureMetadata())
            assert.deepEqual(header.metadata.get(key), expected, key);
        assert.deepEqual(header.tensors, fixtureTensors().map((t, i) => ({name: t.name, shape: t.shape, type: t.type, offset: fixture.offsets[i]})));
    });

    it("agrees with node-llama-cpp's own parser on metadata and tensor infos", async () => {
        const header = await readGgufHeader(fixturePath);
        const info = await readGgufFileInfo(fixturePath, {logWarnings: false});
        assert.equal(info.version, header.version);
        const theirs = flatten(info.metadata as unknown as Record<string, unknown>);
        assert.deepEqual([...theirs.keys()].sort(), [...header.metadata.keys()].sort());
        for (const [key, entry] of header.metadata)
            assert.deepEqual(theirs.get(key), entry.value, key);
        assert.equal(info.infoEndOffset, header.dataOffset);
        assert.deepEqual(
            (info.tensorInfo ?? []).map((t) => ({name: t.name, shape: t.dimensions.map(Number), type: t.ggmlType, offset: Number(t.offset), fileOffset: Number(t.fileOffset)})),
            header.tensors.map((t) => ({name: t.name, shape: t.shape, type: t.type, offset: t.offset, fileOffset: header.dataOffset + t.offset}))
        );
    });

    it("dequantizes f32, f16, q8_0 and q4_0 tensors", async () => {
        const reader = await GgufReader.open(fixturePath);
        try {
            assert.deepEqual([...await reader.readTensor("t.f32")], f32Values);
            assert.deepEqual([...await reader.readTensor("t.f16")], f16Values);
            assert.deepEqual([...await reader.readTensor("t.q8_0")], q8Quanta.map((q) => 0.5 * q));
            assert.deepEqual([...await reader.readTensor("t.q4_0")], q4Quanta.map((q) => 0.125 * (q - 8)));
            await assert.rejects(reader.readTensor("missing"), isOrchardErrorWith("MODEL_INVALID", `${fixturePath}: has no tensor "missing"`));
        } finally {
            await reader.close();
        }
        assert.deepEqual([...await readGgufTensor(fixturePath, "t.f16")], f16Values);
    });

    it("decodes halves exactly, including subnormals, infinities and an unaligned f32 buffer", () => {
        assert.equal(halfToFloat(0x3c00), 1);
        assert.equal(halfToFloat(0xc000), -2);
        assert.equal(halfToFloat(0x0001), 2 ** -24);
        assert.equal(halfToFloat(0x7bff), 65504);
        assert.equal(halfToFloat(0x7c00), Infinity);
        assert.ok(Number.isNaN(halfToFloat(0x7e00)));
        const unaligned = Buffer.concat([Buffer.alloc(1), Buffer.from(f32Bytes([1.5, -2.25]))]).subarray(1);
        assert.deepEqual([...dequantizeGgml(unaligned, GgmlType.F32, 2)], [1.5, -2.25]);
    });

    it("parses a 32,000-entry tokenizer quickly", async () => {
        const start = performance.now();
        for (let i = 0; i < 5; i++) await readGgufHeader(fixturePath);
        const perRead = (performance.now() - start) / 5;
        // a per-value await or a whole-file read would take far longer than this on any machine
        assert.ok(perRead < 250, `header read took ${perRead.toFixed(1)} ms`);
    });

    it("reads the header of a 50 GB (sparse) file without reading its data", async () => {
        const path = join(dir, "huge.gguf");
        const bigShape = [8192, 8192, 400]; // 26.8 G elements of f16: 53.7 GB
        const bigBytes = ggmlTensorBytes(bigShape, GgmlType.F16);
        const tail = f32Bytes([7, 8, 9, 10]);
        const built = buildGguf({
            metadata: fixtureMetadata(),
            tensors: [{name: "huge", shape: bigShape, type: GgmlType.F16, data: new Uint8Array(0)}, {name: "tail", shape: [4], type: GgmlType.F32, data: tail}],
            alignment: 64
        });
        // the builder laid "tail" right after an empty "huge"; recompute its real offset past the 53.7 GB tensor
        const tailOffset = alignUp(bigBytes, 64);
        const header = Buffer.from(built.header);
        const tailOffsetField = header.lastIndexOf(Buffer.from("tail")) + 4 + 4 + 8 + 4;
        header.writeBigUInt64LE(BigInt(tailOffset), tailOffsetField);
        await writeFile(path, header);
        const handle = await open(path, "r+");
        await handle.write(tail, 0, tail.length, header.length + tailOffset);
        await handle.close();

        const start = performance.now();
        const reader = await GgufReader.open(path);
        const elapsed = performance.now() - start;
        try {
            assert.equal(reader.header.fileSize, header.length + tailOffset + tail.length);
            assert.deepEqual(reader.tensor("huge").shape, bigShape);
            assert.equal(reader.tensor("tail").offset, tailOffset);
            assert.ok(elapsed < 250, `header read took ${elapsed.toFixed(1)} ms`);
            assert.deepEqual([...await reader.readTensor("tail")], [7, 8, 9, 10]);
            await assert.rejects(reader.readTensor("huge"), isOrchardErrorWith("MODEL_INVALID", "too many to dequantize"));
        } finally {
            await reader.close();
        }
    });

    it("raises MODEL_NOT_FOUND for a missing file", async () => {
        const path = join(dir, "nope.gguf");
        await assert.rejects(readGgufHeader(path), isOrchardErrorWith("MODEL_NOT_FOUND", `${path}: no such file`));
    });

    it("raises MODEL_INVALID for a directory, wrong magic and an empty file", async () => {
        const sub = join(dir, "a-directory.gguf");
        await mkdir(sub);
        await assert.rejects(readGgufHeader(sub), isOrchardErrorWith("MODEL_INVALID", `${sub}: not a regular file`));
        const text = join(dir, "text.gguf");
        await writeFile(text, "{\"not\": \"a model\"}\n");
        await assert.rejects(readGgufHeader(text), isOrchardErrorWith("MODEL_INVALID", `${text}: not a GGUF file (magic`));
        const empty = join(dir, "empty.gguf");
        await writeFile(empty, "");
        await assert.rejects(readGgufHeader(empty), isOrchardErrorWith("MODEL_INVALID", `${empty}: not a GGUF file (only 0 bytes)`));
    });

    it("raises MODEL_INVALID for unsupported and big-endian versions", async () => {
        for (const version of [1, 4]) {
            const path = join(dir, `v${version}.gguf`);
            const bytes = Buffer.from(fixture.header);
            bytes.writeUInt32LE(version, 4);
            await writeFile(path, bytes);
            await assert.rejects(readGgufHeader(path), isOrchardErrorWith("MODEL_INVALID", `${path}: unsupported GGUF version ${version}`));
        }
        const path = join(dir, "big-endian.gguf");
        const bytes = Buffer.from(fixture.header);
        bytes.writeUInt32BE(3, 4);
        await writeFile(path, bytes);
        await assert.rejects(readGgufHeader(path), isOrchardErrorWith("MODEL_INVALID", "big-endian"));
    });

    it("raises MODEL_INVALID for a file truncated anywhere in the header or the data", async () => {
        const whole = Buffer.concat([fixture.header, fixture.data]);
        const path = join(dir, "truncated.gguf");
        // cut points in the fixed header, inside the tokenizer array, in the tensor infos and in the data
        const cuts = [6, 20, 100, Math.floor(fixture.header.length / 2), fixture.header.length - 80, fixture.header.length + 10, fixture.header.length + (fixture.offsets.at(-1) ?? 0) + 17];
        for (const cut of cuts) {
            await writeFile(path, whole.subarray(0, cut));
            await assert.rejects(readGgufHeader(path), isOrchardErrorWith("MODEL_INVALID", new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: truncated`)), `cut at ${cut}`);
        }
        await truncate(path, 0);
    });

    it("raises MODEL_INVALID for an implausible count instead of allocating it", async () => {
        const path = join(dir, "garbage-count.gguf");
        const bytes = Buffer.from(fixture.header);
        bytes.writeBigUInt64LE(2n ** 62n, 16);
        await writeFile(path, bytes);
        await assert.rejects(readGgufHeader(path), isOrchardErrorWith("MODEL_INVALID", "implausible metadata count"));
    });
});
