import {open, type FileHandle} from "node:fs/promises";
import {OrchardError} from "../errors/orchard-error.ts";
import {encodedByteLength, encodeGgmlValues} from "./ggml-quantize.ts";
import {
    alignUp,
    GGML_TYPE_LAYOUT,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GGUF_VERSION,
    GgmlType,
    ggmlTensorBytes,
    GgufValueType,
    type GgufMetadataValue,
    type GgufTensorInfo
} from "./gguf-types.ts";

/**
 * A streaming GGUF v3 writer: the header (metadata and tensor infos) is built in memory, then each
 * tensor's values are pulled from its generator chunk by chunk, encoded into the tensor's type and
 * written through two bounded staging buffers, so a model far larger than memory can be written.
 */

/** One tensor to write. Its values come from `generate`, called once when the writer reaches it. */
export interface GgufTensorSource {
    readonly name: string;
    /** ggml order: fastest-varying dimension first. */
    readonly shape: readonly number[];
    readonly type: GgmlType;
    /**
     * Yields the tensor's values as f32, in ggml order, in chunks of any size. The writer encodes
     * each chunk before asking for the next, so a generator may refill and yield the same array.
     */
    readonly generate: () => Iterable<Float32Array> | AsyncIterable<Float32Array>;
}

/** What the layout depends on: metadata and each tensor's name, shape and type. */
export interface GgufLayoutOptions {
    /** Written in insertion order. `general.alignment` is added when absent. */
    readonly metadata: ReadonlyMap<string, GgufMetadataValue>;
    readonly tensors: readonly Pick<GgufTensorSource, "name" | "shape" | "type">[];
    /** Alignment of the data section and of every tensor in it; default 32. */
    readonly alignment?: number;
}

export interface GgufWriteOptions extends GgufLayoutOptions {
    readonly tensors: readonly GgufTensorSource[];
}

/** Where everything lands in the file, known before a byte of tensor data is generated. */
export interface GgufPlan {
    /** Header bytes: magic, version, counts, metadata, tensor infos (without padding). */
    readonly header: Uint8Array;
    /** Offset of the tensor data section from the start of the file. */
    readonly dataOffset: number;
    readonly tensorInfos: readonly GgufTensorInfo[];
    /** Size of the whole file, including the padding after the last tensor. */
    readonly totalBytes: number;
    readonly alignment: number;
}

/** ggml's GGML_MAX_NAME: tensor names must fit in 63 bytes plus a NUL. */
const MAX_TENSOR_NAME_BYTES = 63;
/** Size of each of the two staging buffers between the encoder and the file. */
const STAGING_BYTES = 8 * 1024 * 1024;

const ALIGNMENT_KEY = "general.alignment";
const textEncoder = new TextEncoder();

/** Metadata value constructors, so call sites read `ggufUint32(32)` instead of a tagged object. */
export const ggufString = (value: string): GgufMetadataValue => ({type: GgufValueType.STRING, value});
export const ggufBool = (value: boolean): GgufMetadataValue => ({type: GgufValueType.BOOL, value});
export const ggufUint32 = (value: number): GgufMetadataValue => ({type: GgufValueType.UINT32, value});
export const ggufInt32 = (value: number): GgufMetadataValue => ({type: GgufValueType.INT32, value});
export const ggufFloat32 = (value: number): GgufMetadataValue => ({type: GgufValueType.FLOAT32, value});
export const ggufArray = (elementType: GgufValueType, value: readonly (string | number | bigint | boolean)[]): GgufMetadataValue =>
    ({type: GgufValueType.ARRAY, elementType, value});

/** Lays out the file: validates the tensors, assigns aligned offsets and encodes the header. */
export function planGguf(options: GgufLayoutOptions): GgufPlan {
    const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0)
        throw new OrchardError("INVALID_ARGUMENT", `GGUF alignment must be a positive multiple of 8, got ${alignment}`);

    const metadata = new Map(options.metadata);
    const declared = metadata.get(ALIGNMENT_KEY);
    if (declared === undefined)
        metadata.set(ALIGNMENT_KEY, ggufUint32(alignment));
    else if (declared.type !== GgufValueType.UINT32 || declared.value !== alignment)
        throw new OrchardError("INVALID_ARGUMENT", `metadata ${ALIGNMENT_KEY} must be the u32 ${alignment} used for the layout`);

    const names = new Set<string>();
    const tensorInfos: GgufTensorInfo[] = [];
    let offset = 0;
    for (const tensor of options.tensors) {
        validateTensor(tensor, names);
        tensorInfos.push({name: tensor.name, shape: [...tensor.shape], type: tensor.type, offset});
        offset += alignUp(ggmlTensorBytes(tensor.shape, tensor.type), alignment);
    }

    const sink = new ByteSink();
    sink.u32(GGUF_MAGIC);
    sink.u32(GGUF_VERSION);
    sink.u64(tensorInfos.length);
    sink.u64(metadata.size);
    for (const [key, value] of metadata) {
        sink.string(key);
        writeMetadataValue(sink, key, value);
    }
    for (const info of tensorInfos) {
        sink.string(info.name);
        sink.u32(info.shape.length);
        for (const dimension of info.shape)
            sink.u64(dimension);
        sink.u32(info.type);
        sink.u64(info.offset);
    }
    const header = sink.toBytes();
    const dataOffset = alignUp(header.length, alignment);
    return {header, dataOffset, tensorInfos, totalBytes: dataOffset + offset, alignment};
}

/**
 * Writes a GGUF file at `path` (created or truncated). Tensor data is generated and written one
 * chunk at a time with at most one write in flight, so memory stays bounded by the staging buffers
 * and the generators' chunks. On failure the file handle is closed and the partial file left for
 * the caller to remove (callers write to a temporary name and rename on success).
 */
export async function writeGguf(path: string, options: GgufWriteOptions): Promise<GgufPlan> {
    const plan = planGguf(options);
    const handle = await open(path, "w");
    const out = new StagedFileWriter(handle);
    try {
        await out.append(plan.header);
        await out.zeros(plan.dataOffset - plan.header.length);
        for (const [index, tensor] of options.tensors.entries()) {
            const info = plan.tensorInfos[index] as GgufTensorInfo;
            if (out.position !== plan.dataOffset + info.offset)
                throw new OrchardError("INTERNAL", `tensor ${tensor.name} would start at ${out.position}, planned ${plan.dataOffset + info.offset}`);
            const bytes = await writeTensorData(out, tensor);
            await out.zeros(alignUp(bytes, plan.alignment) - bytes);
        }
        await out.finish();
        if (out.position !== plan.totalBytes)
            throw new OrchardError("INTERNAL", `wrote ${out.position} bytes, planned ${plan.totalBytes}`);
    } finally {
        await out.settle();
        await handle.close();
    }
    return plan;
}

async function writeTensorData(out: StagedFileWriter, tensor: GgufTensorSource): Promise<number> {
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    const {blockSize} = GGML_TYPE_LAYOUT[tensor.type];
    // Values that do not yet fill a whole block wait here for the next chunk.
    const carry = new Float32Array(blockSize);
    let carried = 0;
    let produced = 0;
    let written = 0;
    let scratch = new Uint8Array(0);

    const encode = async (values: Float32Array): Promise<void> => {
        const length = encodedByteLength(tensor.type, values.length);
        if (scratch.length < length)
            scratch = new Uint8Array(length);
        encodeGgmlValues(tensor.type, values, scratch, 0);
        await out.append(scratch.subarray(0, length));
        written += length;
    };

    for await (const chunk of tensor.generate()) {
        produced += chunk.length;
        if (produced > elements)
            throw new OrchardError("INTERNAL", `tensor ${tensor.name} generated more than its ${elements} values`);
        let start = 0;
        if (carried > 0) {
            const take = Math.min(blockSize - carried, chunk.length);
            carry.set(chunk.subarray(0, take), carried);
            carried += take;
            start = take;
            if (carried === blockSize) {
                await encode(carry);
                carried = 0;
            }
        }
        const whole = start + Math.floor((chunk.length - start) / blockSize) * blockSize;
        if (whole > start)
            await encode(chunk.subarray(start, whole));
        if (whole < chunk.length) {
            carry.set(chunk.subarray(whole), 0);
            carried = chunk.length - whole;
        }
    }
    if (produced !== elements)
        throw new OrchardError("INTERNAL", `tensor ${tensor.name} generated ${produced} values, expected ${elements}`);
    return written;
}

function validateTensor(tensor: Pick<GgufTensorSource, "name" | "shape" | "type">, names: Set<string>): void {
    const nameBytes = textEncoder.encode(tensor.name).length;
    if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES)
        throw new OrchardError("INVALID_ARGUMENT", `tensor name "${tensor.name}" must be 1 to ${MAX_TENSOR_NAME_BYTES} bytes`);
    if (names.has(tensor.name))
        throw new OrchardError("INVALID_ARGUMENT", `duplicate tensor name "${tensor.name}"`);
    names.add(tensor.name);
    if (tensor.shape.length < 1 || tensor.shape.length > 4 || !tensor.shape.every((d) => Number.isSafeInteger(d) && d > 0))
        throw new OrchardError("INVALID_ARGUMENT", `tensor ${tensor.name} has invalid shape [${tensor.shape.join(", ")}] (1 to 4 positive dimensions)`);
    if (!(tensor.type in GGML_TYPE_LAYOUT))
        throw new OrchardError("INVALID_ARGUMENT", `tensor ${tensor.name} has unsupported type ${String(tensor.type)}`);
    const {blockSize} = GGML_TYPE_LAYOUT[tensor.type];
    // ggml quantizes row by row, so a row (the fastest dimension) must be whole blocks
    if ((tensor.shape[0] as number) % blockSize !== 0)
        throw new OrchardError("INVALID_ARGUMENT",
            `tensor ${tensor.name}: ${GgmlType[tensor.type]} needs the first dimension to be a multiple of ${blockSize}, got ${tensor.shape[0]}`);
}

function writeMetadataValue(sink: ByteSink, key: string, value: GgufMetadataValue): void {
    sink.u32(value.type);
    if (value.type === GgufValueType.ARRAY) {
        if (value.elementType === GgufValueType.ARRAY)
            throw new OrchardError("INVALID_ARGUMENT", `metadata ${key}: nested arrays are not supported`);
        sink.u32(value.elementType);
        sink.u64(value.value.length);
        for (const element of value.value)
            writeScalar(sink, key, value.elementType, element);
        return;
    }
    writeScalar(sink, key, value.type, value.value);
}

function writeScalar(sink: ByteSink, key: string, type: GgufValueType, value: string | number | bigint | boolean): void {
    const mismatch = (): OrchardError =>
        new OrchardError("INVALID_ARGUMENT", `metadata ${key}: ${typeof value} ${String(value)} is not a valid ${GgufValueType[type]}`);
    if (type === GgufValueType.STRING) {
        if (typeof value !== "string") throw mismatch();
        sink.string(value);
        return;
    }
    if (type === GgufValueType.BOOL) {
        if (typeof value !== "boolean") throw mismatch();
        sink.u8(value ? 1 : 0);
        return;
    }
    if (typeof value !== "number" && typeof value !== "bigint") throw mismatch();
    if (type === GgufValueType.FLOAT32 || type === GgufValueType.FLOAT64) {
        const number = Number(value);
        if (type === GgufValueType.FLOAT32) sink.f32(number);
        else sink.f64(number);
        return;
    }
    const range = INTEGER_RANGES[type];
    if (range === undefined) throw mismatch();
    const integer = typeof value === "bigint" ? value : Number.isInteger(value) ? BigInt(value) : undefined;
    if (integer === undefined || integer < range[0] || integer > range[1])
        throw new OrchardError("INVALID_ARGUMENT", `metadata ${key}: ${String(value)} is not a valid ${GgufValueType[type]}`);
    switch (type) {
        case GgufValueType.UINT8: sink.u8(Number(integer)); return;
        case GgufValueType.INT8: sink.i8(Number(integer)); return;
        case GgufValueType.UINT16: sink.u16(Number(integer)); return;
        case GgufValueType.INT16: sink.i16(Number(integer)); return;
        case GgufValueType.UINT32: sink.u32(Number(integer)); return;
        case GgufValueType.INT32: sink.i32(Number(integer)); return;
        case GgufValueType.UINT64: sink.u64(integer); return;
        default: sink.i64(integer); return;
    }
}

/** Inclusive bounds of each integer metadata type. */
const INTEGER_RANGES: Partial<Record<GgufValueType, readonly [bigint, bigint]>> = {
    [GgufValueType.UINT8]: [0n, 0xffn],
    [GgufValueType.INT8]: [-0x80n, 0x7fn],
    [GgufValueType.UINT16]: [0n, 0xffffn],
    [GgufValueType.INT16]: [-0x8000n, 0x7fffn],
    [GgufValueType.UINT32]: [0n, 0xffffffffn],
    [GgufValueType.INT32]: [-0x80000000n, 0x7fffffffn],
    [GgufValueType.UINT64]: [0n, 0xffffffffffffffffn],
    [GgufValueType.INT64]: [-0x8000000000000000n, 0x7fffffffffffffffn]
};

/** An in-memory little-endian byte builder for the header (~1 MB with a 32k vocabulary). */
class ByteSink {
    private buffer = new Uint8Array(64 * 1024);
    private view = new DataView(this.buffer.buffer);
    private length = 0;

    /** Makes room for `count` more bytes and returns their offset; may replace buffer and view. */
    private reserve(count: number): number {
        if (this.length + count > this.buffer.length) {
            const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + count));
            grown.set(this.buffer.subarray(0, this.length));
            this.buffer = grown;
            this.view = new DataView(grown.buffer);
        }
        const at = this.length;
        this.length += count;
        return at;
    }

    public bytes(bytes: Uint8Array): void {
        const at = this.reserve(bytes.length);
        this.buffer.set(bytes, at);
    }

    public u8(value: number): void { const at = this.reserve(1); this.view.setUint8(at, value); }
    public i8(value: number): void { const at = this.reserve(1); this.view.setInt8(at, value); }
    public u16(value: number): void { const at = this.reserve(2); this.view.setUint16(at, value, true); }
    public i16(value: number): void { const at = this.reserve(2); this.view.setInt16(at, value, true); }
    public u32(value: number): void { const at = this.reserve(4); this.view.setUint32(at, value, true); }
    public i32(value: number): void { const at = this.reserve(4); this.view.setInt32(at, value, true); }
    public f32(value: number): void { const at = this.reserve(4); this.view.setFloat32(at, value, true); }
    public f64(value: number): void { const at = this.reserve(8); this.view.setFloat64(at, value, true); }
    public u64(value: number | bigint): void { const at = this.reserve(8); this.view.setBigUint64(at, BigInt(value), true); }
    public i64(value: number | bigint): void { const at = this.reserve(8); this.view.setBigInt64(at, BigInt(value), true); }

    /** GGUF string: u64 byte length, then UTF-8 without a terminator. */
    public string(value: string): void {
        const encoded = textEncoder.encode(value);
        this.u64(encoded.length);
        this.bytes(encoded);
    }

    public toBytes(): Uint8Array {
        return this.buffer.slice(0, this.length);
    }
}

/**
 * Sequential file output through two staging buffers: one fills while the other is being written.
 * A full buffer waits for the previous write to finish before it is handed over, which is the
 * back-pressure that keeps a fast generator from queueing unbounded writes against a slow disk.
 */
class StagedFileWriter {
    private readonly handle: FileHandle;
    private buffers: [Uint8Array, Uint8Array] = [new Uint8Array(STAGING_BYTES), new Uint8Array(STAGING_BYTES)];
    private filled = 0;
    private pending: Promise<void> | undefined;
    /** Bytes handed to this writer so far = file position of the next appended byte. */
    public position = 0;

    public constructor(handle: FileHandle) {
        this.handle = handle;
    }

    public async append(bytes: Uint8Array): Promise<void> {
        let offset = 0;
        while (offset < bytes.length) {
            const take = Math.min(bytes.length - offset, STAGING_BYTES - this.filled);
            this.buffers[0].set(bytes.subarray(offset, offset + take), this.filled);
            this.filled += take;
            offset += take;
            if (this.filled === STAGING_BYTES)
                await this.flush();
        }
        this.position += bytes.length;
    }

    public async zeros(count: number): Promise<void> {
        if (count > 0)
            await this.append(new Uint8Array(count));
    }

    public async finish(): Promise<void> {
        await this.flush();
        await this.pending;
        this.pending = undefined;
    }

    /** Waits out a write still in flight (ignoring its outcome) so the handle can be closed safely. */
    public async settle(): Promise<void> {
        await this.pending?.catch(() => undefined);
    }

    private async flush(): Promise<void> {
        await this.pending;
        const full = this.buffers[0];
        if (this.filled > 0) {
            const pending = this.writeAll(full, this.filled);
            // marked handled now; its failure surfaces at the next flush, finish or settle
            pending.catch(() => undefined);
            this.pending = pending;
        } else {
            this.pending = undefined;
        }
        this.buffers = [this.buffers[1], full];
        this.filled = 0;
    }

    /** File offset of the next write; advanced only once a write completes (writes never overlap). */
    private written = 0;

    private async writeAll(buffer: Uint8Array, length: number): Promise<void> {
        let done = 0;
        // a regular file may accept fewer bytes than asked; keep going until all are down
        while (done < length) {
            const {bytesWritten} = await this.handle.write(buffer, done, length - done, this.written + done);
            done += bytesWritten;
        }
        this.written += length;
    }
}
