import assert from "node:assert/strict";
import {mkdtemp, readFile, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {encodedByteLength, encodeGgmlValues} from "./ggml-quantize.ts";
import {GGUF_MAGIC, GgmlType, GgufValueType, type GgufMetadataValue} from "./gguf-types.ts";
import {
    ggufArray,
    ggufBool,
    ggufFloat32,
    ggufInt32,
    ggufString,
    ggufUint32,
    planGguf,
    writeGguf,
    type GgufTensorSource
} from "./gguf-writer.ts";

/** A minimal independent GGUF reader: just enough to check what the writer put where. */
function readGguf(bytes: Buffer): {version: number; metadata: Map<string, unknown>; tensors: {name: string; shape: number[]; type: number; offset: number}[]; dataOffset: number} {
    let at = 0;
    const u32 = (): number => { const v = bytes.readUInt32LE(at); at += 4; return v; };
    const u64 = (): number => { const v = Number(bytes.readBigUInt64LE(at)); at += 8; return v; };
    const str = (): string => { const n = u64(); const s = bytes.toString("utf8", at, at + n); at += n; return s; };
    const scalar = (type: number): unknown => {
        switch (type) {
            case GgufValueType.UINT8: return bytes.readUInt8(at++);
            case GgufValueType.INT8: return bytes.readInt8(at++);
            case GgufValueType.UINT16: { const v = bytes.readUInt16LE(at); at += 2; return v; }
            case GgufValueType.INT16: { const v = bytes.readInt16LE(at); at += 2; return v; }
            case GgufValueType.UINT32: return u32();
            case GgufValueType.INT32: { const v = bytes.readInt32LE(at); at += 4; return v; }
            case GgufValueType.FLOAT32: { const v = bytes.readFloatLE(at); at += 4; return v; }
            case GgufValueType.BOOL: return bytes.readUInt8(at++) !== 0;
            case GgufValueType.STRING: return str();
            case GgufValueType.UINT64: { const v = bytes.readBigUInt64LE(at); at += 8; return v; }
            case GgufValueType.INT64: { const v = bytes.readBigInt64LE(at); at += 8; return v; }
            case GgufValueType.FLOAT64: { const v = bytes.readDoubleLE(at); at += 8; return v; }
            case GgufValueType.ARRAY: { const elementType = u32(); const n = u64(); return Array.from({length: n}, () => scalar(elementType)); }
            default: throw new Error(`bad type ${type}`);
        }
    };
    assert.equal(u32(), GGUF_MAGIC);
    const version = u32();
    const tensorCount = u64();
    const kvCount = u64();
    const metadata = new Map<string, unknown>();
    for (let i = 0; i < kvCount; i++) {
        const key = str();
        metadata.set(key, scalar(u32()));
    }
    const tensors = Array.from({length: tensorCount}, () => {
        const name = str();
        const dims = u32();
        const shape = Array.from({length: dims}, () => u64());
        return {name, shape, type: u32(), offset: u64()};
    });
    const alignment = metadata.get("general.alignment") as number;
    return {version, metadata, tensors, dataOffset: Math.ceil(at / alignment) * alignment};
}

/** Deterministic test values; chunk sizes deliberately split q8_0 blocks and staging buffers. */
function tensor(name: string, shape: number[], type: GgmlType, chunkSize: number): GgufTensorSource & {values: Float32Array} {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count).map((_, i) => Math.sin(i * 0.37 + name.length) * 3);
    return {
        name, shape, type, values,
        *generate() {
            // one reused buffer, as real generators do
            const buffer = new Float32Array(chunkSize);
            for (let i = 0; i < count; i += chunkSize) {
                const chunk = buffer.subarray(0, Math.min(chunkSize, count - i));
                chunk.set(values.subarray(i, i + chunk.length));
                yield chunk;
            }
        }
    };
}

function encoded(type: GgmlType, values: Float32Array): Uint8Array {
    const out = new Uint8Array(encodedByteLength(type, values.length));
    encodeGgmlValues(type, values, out, 0);
    return out;
}

describe("writeGguf", () => {
    let dir = "";
    before(async () => { dir = await mkdtemp(join(tmpdir(), "orchard-gguf-writer-")); });
    after(async () => { await rm(dir, {recursive: true, force: true}); });

    const metadata = new Map<string, GgufMetadataValue>([
        ["general.architecture", ggufString("llama")],
        ["general.name", ggufString("tëst ✓")],
        ["test.u32", ggufUint32(4000000000)],
        ["test.i32", ggufInt32(-7)],
        ["test.f32", ggufFloat32(0.5)],
        ["test.bool", ggufBool(true)],
        ["test.u64", {type: GgufValueType.UINT64, value: 2n ** 40n}],
        ["test.strings", ggufArray(GgufValueType.STRING, ["a", "", "▁b"])],
        ["test.floats", ggufArray(GgufValueType.FLOAT32, [1.5, -2])],
        ["test.ints", ggufArray(GgufValueType.INT32, [1, -1, 3])],
        // big enough to make the header builder grow its buffer several times
        ["test.many", ggufArray(GgufValueType.STRING, Array.from({length: 20000}, (_, i) => `piece${i}`))]
    ]);

    it("writes header, metadata, aligned tensor infos and encoded data", async () => {
        const tensors = [
            tensor("a.f32", [3, 5], GgmlType.F32, 4),
            tensor("b.f16", [7], GgmlType.F16, 7),
            tensor("c.q8_0", [64, 3], GgmlType.Q8_0, 45),
            // larger than the two 8 MiB staging buffers together, in odd chunks
            tensor("d.big", [1024, 4500], GgmlType.F32, 333_333)
        ];
        const path = join(dir, "model.gguf");
        const plan = await writeGguf(path, {metadata, tensors});
        const bytes = await readFile(path);
        assert.equal(bytes.length, plan.totalBytes);
        assert.equal((await stat(path)).size, plan.totalBytes);

        const parsed = readGguf(bytes);
        assert.equal(parsed.version, 3);
        assert.equal(parsed.dataOffset, plan.dataOffset);
        assert.equal(parsed.metadata.get("general.alignment"), 32);
        assert.equal(parsed.metadata.get("general.name"), "tëst ✓");
        assert.equal(parsed.metadata.get("test.u32"), 4000000000);
        assert.equal(parsed.metadata.get("test.i32"), -7);
        assert.equal(parsed.metadata.get("test.f32"), 0.5);
        assert.equal(parsed.metadata.get("test.bool"), true);
        assert.equal(parsed.metadata.get("test.u64"), 2n ** 40n);
        assert.deepEqual(parsed.metadata.get("test.strings"), ["a", "", "▁b"]);
        assert.deepEqual(parsed.metadata.get("test.floats"), [1.5, -2]);
        assert.deepEqual(parsed.metadata.get("test.ints"), [1, -1, 3]);
        assert.equal((parsed.metadata.get("test.many") as string[])[19999], "piece19999");
        assert.deepEqual([...parsed.metadata.keys()].slice(0, 2), ["general.architecture", "general.name"]);

        assert.deepEqual(parsed.tensors.map((t) => t.name), tensors.map((t) => t.name));
        for (const [i, info] of parsed.tensors.entries()) {
            const source = tensors[i]!;
            assert.deepEqual(info.shape, source.shape);
            assert.equal(info.type, source.type);
            assert.equal(info.offset % 32, 0, `${info.name} offset aligned`);
            const start = parsed.dataOffset + info.offset;
            const expected = encoded(source.type, source.values);
            assert.ok(Buffer.from(expected).equals(bytes.subarray(start, start + expected.length)), `${info.name} data`);
        }
        // padding between header and data, and after tensors, is zeros
        assert.ok(bytes.subarray(plan.header.length, plan.dataOffset).every((b) => b === 0));
    });

    it("plans the same layout without writing", () => {
        const tensors = [tensor("x", [32, 2], GgmlType.Q8_0, 64), tensor("y", [3], GgmlType.F32, 3)];
        const plan = planGguf({metadata, tensors});
        assert.equal(plan.tensorInfos[0]!.offset, 0);
        assert.equal(plan.tensorInfos[1]!.offset, 96); // 68 bytes of q8_0, padded to 32
        assert.equal(plan.totalBytes, plan.dataOffset + 96 + 32);
    });

    it("rejects a generator that yields too few or too many values, leaving no handle open", async () => {
        const short: GgufTensorSource = {name: "s", shape: [10], type: GgmlType.F32, *generate() { yield new Float32Array(9); }};
        await assert.rejects(writeGguf(join(dir, "short.gguf"), {metadata, tensors: [short]}), /generated 9 values, expected 10/);
        const long: GgufTensorSource = {name: "l", shape: [10], type: GgmlType.F32, *generate() { yield new Float32Array(11); }};
        await assert.rejects(writeGguf(join(dir, "long.gguf"), {metadata, tensors: [long]}), /more than its 10 values/);
    });

    it("rejects invalid tensors and metadata before writing", () => {
        const base = {type: GgmlType.F32, *generate() { /* never called */ }};
        assert.throws(() => planGguf({metadata, tensors: [{...base, name: "x", shape: [40], type: GgmlType.Q8_0}]}), /multiple of 32/);
        assert.throws(() => planGguf({metadata, tensors: [{...base, name: "x", shape: [1]}, {...base, name: "x", shape: [1]}]}), /duplicate/);
        assert.throws(() => planGguf({metadata, tensors: [{...base, name: "n".repeat(64), shape: [1]}]}), /1 to 63 bytes/);
        assert.throws(() => planGguf({metadata, tensors: [{...base, name: "x", shape: [0]}]}), /invalid shape/);
        assert.throws(() => planGguf({metadata: new Map([["k", ggufUint32(-1)]]), tensors: []}), {code: "INVALID_ARGUMENT"});
        assert.throws(() => planGguf({metadata: new Map([["k", ggufUint32(1.5)]]), tensors: []}), {code: "INVALID_ARGUMENT"});
        assert.throws(() => planGguf({metadata: new Map([["general.alignment", ggufUint32(64)]]), tensors: []}), /general.alignment/);
    });
});
