import {open, stat, type FileHandle} from "node:fs/promises";
import {endianness} from "node:os";
import {OrchardError} from "../errors/orchard-error.ts";
import {
    alignUp,
    GGML_TYPE_LAYOUT,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GgmlType,
    GgufValueType,
    type GgufMetadataValue,
    type GgufTensorInfo
} from "./gguf-types.ts";

/** Everything before the tensor data section of a GGUF file. */
export interface GgufHeader {
    readonly path: string;
    readonly version: number;
    readonly metadata: ReadonlyMap<string, GgufMetadataValue>;
    readonly tensors: readonly GgufTensorInfo[];
    /** general.alignment, or GGUF_DEFAULT_ALIGNMENT when the file does not set it. */
    readonly alignment: number;
    /** Absolute file offset of the tensor data section (tensor offsets are relative to it). */
    readonly dataOffset: number;
    readonly fileSize: number;
}

/** v2 and v3 share one little-endian layout (v3 only added big-endian files), so both read the same way. */
const SUPPORTED_VERSIONS: readonly number[] = [2, 3];
/** The header is pulled in through a window of this size, so a 50 GB file costs only its header in reads. */
const READ_CHUNK_BYTES = 1 << 20;
/** ggml's GGML_MAX_DIMS; more dimensions means the header is garbage. */
const MAX_TENSOR_DIMS = 4;
const LITTLE_ENDIAN_HOST = endianness() === "LE";
/** A single fs read is capped below 2 GiB by Node. */
const MAX_READ_BYTES = 1 << 30;

/**
 * Block layouts of every ggml type, only to check that tensors fit in the file: the header of a
 * real Mixtral (Q4_K, Q6_K...) must read even though only GGML_TYPE_LAYOUT's types dequantize.
 */
const KNOWN_TYPE_LAYOUT: ReadonlyMap<number, {readonly blockSize: number; readonly bytesPerBlock: number}> = new Map([
    [0, {blockSize: 1, bytesPerBlock: 4}], // F32
    [1, {blockSize: 1, bytesPerBlock: 2}], // F16
    [2, {blockSize: 32, bytesPerBlock: 18}], // Q4_0
    [3, {blockSize: 32, bytesPerBlock: 20}], // Q4_1
    [6, {blockSize: 32, bytesPerBlock: 22}], // Q5_0
    [7, {blockSize: 32, bytesPerBlock: 24}], // Q5_1
    [8, {blockSize: 32, bytesPerBlock: 34}], // Q8_0
    [9, {blockSize: 32, bytesPerBlock: 36}], // Q8_1
    [10, {blockSize: 256, bytesPerBlock: 84}], // Q2_K
    [11, {blockSize: 256, bytesPerBlock: 110}], // Q3_K
    [12, {blockSize: 256, bytesPerBlock: 144}], // Q4_K
    [13, {blockSize: 256, bytesPerBlock: 176}], // Q5_K
    [14, {blockSize: 256, bytesPerBlock: 210}], // Q6_K
    [15, {blockSize: 256, bytesPerBlock: 292}], // Q8_K
    [16, {blockSize: 256, bytesPerBlock: 66}], // IQ2_XXS
    [17, {blockSize: 256, bytesPerBlock: 74}], // IQ2_XS
    [18, {blockSize: 256, bytesPerBlock: 98}], // IQ3_XXS
    [19, {blockSize: 256, bytesPerBlock: 50}], // IQ1_S
    [20, {blockSize: 32, bytesPerBlock: 18}], // IQ4_NL
    [21, {blockSize: 256, bytesPerBlock: 110}], // IQ3_S
    [22, {blockSize: 256, bytesPerBlock: 82}], // IQ2_S
    [23, {blockSize: 256, bytesPerBlock: 136}], // IQ4_XS
    [24, {blockSize: 1, bytesPerBlock: 1}], // I8
    [25, {blockSize: 1, bytesPerBlock: 2}], // I16
    [26, {blockSize: 1, bytesPerBlock: 4}], // I32
    [27, {blockSize: 1, bytesPerBlock: 8}], // I64
    [28, {blockSize: 1, bytesPerBlock: 8}], // F64
    [29, {blockSize: 256, bytesPerBlock: 56}], // IQ1_M
    [30, {blockSize: 1, bytesPerBlock: 2}], // BF16
    [34, {blockSize: 256, bytesPerBlock: 54}], // TQ1_0
    [35, {blockSize: 256, bytesPerBlock: 66}] // TQ2_0
]);

/** Reads a GGUF file's header (metadata and tensor infos) without touching its tensor data. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
    const reader = await GgufReader.open(path);
    await reader.close();
    return reader.header;
}

/** Reads one tensor of a GGUF file, dequantized to float32 (f32, f16, q8_0, q4_0). */
export async function readGgufTensor(path: string, name: string): Promise<Float32Array> {
    const reader = await GgufReader.open(path);
    try {
        return await reader.readTensor(name);
    } finally {
        await reader.close();
    }
}

/**
 * An open GGUF file: the parsed header plus a file handle for reading tensors one at a time.
 * Keeping the handle open lets a caller load many tensors without reparsing the header.
 */
export class GgufReader {
    public readonly header: GgufHeader;
    private readonly handle: FileHandle;
    private readonly tensorsByName: ReadonlyMap<string, GgufTensorInfo>;

    private constructor(header: GgufHeader, handle: FileHandle) {
        this.header = header;
        this.handle = handle;
        this.tensorsByName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));
    }

    public static async open(path: string): Promise<GgufReader> {
        const {handle, fileSize} = await openModelFile(path);
        try {
            const header = await parseHeader(new HeaderCursor(handle, fileSize, path), path, fileSize);
            return new GgufReader(header, handle);
        } catch (error) {
            await handle.close();
            throw error;
        }
    }

    public async close(): Promise<void> {
        await this.handle.close();
    }

    public hasTensor(name: string): boolean {
        return this.tensorsByName.has(name);
    }

    /** The header entry of tensor `name`; a model missing a tensor it needs is invalid. */
    public tensor(name: string): GgufTensorInfo {
        const tensor = this.tensorsByName.get(name);
        if (tensor === undefined)
            throw new OrchardError("MODEL_INVALID", `${this.header.path}: has no tensor "${name}"`, {details: {path: this.header.path, tensor: name}});
        return tensor;
    }

    /** The raw bytes of tensor `name` as stored in the file. */
    public async readTensorBytes(name: string): Promise<Buffer> {
        const tensor = this.tensor(name);
        const layout = GGML_TYPE_LAYOUT[tensor.type] ?? KNOWN_TYPE_LAYOUT.get(tensor.type);
        if (layout === undefined)
            throw unsupportedType(this.header.path, tensor);
        const bytes = tensorBytes(tensor.shape, layout);
        const buffer = Buffer.allocUnsafe(bytes);
        const start = this.header.dataOffset + tensor.offset;
        for (let done = 0; done < bytes;) {
            const length = Math.min(MAX_READ_BYTES, bytes - done);
            const {bytesRead} = await this.handle.read(buffer, done, length, start + done);
            if (bytesRead === 0)
                throw new OrchardError("MODEL_INVALID", `${this.header.path}: truncated: tensor "${name}" ends past the end of the file`);
            done += bytesRead;
        }
        return buffer;
    }

    /** Tensor `name` dequantized to float32, in ggml element order (fastest dimension first). */
    public async readTensor(name: string): Promise<Float32Array> {
        const tensor = this.tensor(name);
        if (GGML_TYPE_LAYOUT[tensor.type] === undefined)
            throw unsupportedType(this.header.path, tensor);
        const elements = tensor.shape.reduce((a, b) => a * b, 1);
        // typed arrays cap out well before a real Mixtral's larger tensors; say so instead of a RangeError deep inside
        if (elements > 2 ** 31)
            throw new OrchardError("MODEL_INVALID", `${this.header.path}: tensor "${name}" has ${elements} elements, too many to dequantize in memory`);
        return dequantizeGgml(await this.readTensorBytes(name), tensor.type, elements);
    }
}

/** Decodes `elements` values of ggml type `type` from `bytes` into float32. */
export function dequantizeGgml(bytes: Uint8Array, type: GgmlType, elements: number): Float32Array {
    const out = new Float32Array(elements);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (type) {
        case GgmlType.F32:
            // an aligned buffer on a little-endian host is already the answer: copy instead of decoding
            if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) {
                out.set(new Float32Array(bytes.buffer, bytes.byteOffset, elements));
                return out;
            }
            for (let i = 0; i < elements; i++)
                out[i] = view.getFloat32(i * 4, true);
            return out;
        case GgmlType.F16: {
            const table = halfTable();
            for (let i = 0; i < elements; i++)
                out[i] = table[view.getUint16(i * 2, true)] as number;
            return out;
        }
        case GgmlType.Q8_0: {
            const table = halfTable();
            for (let block = 0; block * 32 < elements; block++) {
                const base = block * 34;
                const scale = table[view.getUint16(base, true)] as number;
                for (let j = 0; j < 32; j++)
                    out[block * 32 + j] = scale * view.getInt8(base + 2 + j);
            }
            return out;
        }
        case GgmlType.Q4_0: {
            const table = halfTable();
            for (let block = 0; block * 32 < elements; block++) {
                const base = block * 18;
                const scale = table[view.getUint16(base, true)] as number;
                // ggml packs element j in the low nibble and element j + 16 in the high nibble of byte j
                for (let j = 0; j < 16; j++) {
                    const packed = bytes[base + 2 + j] as number;
                    out[block * 32 + j] = scale * ((packed & 0x0f) - 8);
                    out[block * 32 + j + 16] = scale * ((packed >> 4) - 8);
                }
            }
            return out;
        }
        default:
            throw new RangeError(`cannot dequantize ggml type ${String(type)}`);
    }
}

/** IEEE half to float for one bit pattern; exported for tests and writers that round-trip f16. */
export function halfToFloat(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let halfTableCache: Float32Array | undefined;

/** All 65,536 halves decoded once: a table lookup beats bit twiddling per element on large tensors. */
function halfTable(): Float32Array {
    if (halfTableCache === undefined) {
        halfTableCache = new Float32Array(65536);
        for (let bits = 0; bits < 65536; bits++)
            halfTableCache[bits] = halfToFloat(bits);
    }
    return halfTableCache;
}

async function openModelFile(path: string): Promise<{handle: FileHandle; fileSize: number}> {
    let handle: FileHandle;
    try {
        const stats = await stat(path);
        if (!stats.isFile())
            throw new OrchardError("MODEL_INVALID", `${path}: not a regular file`, {details: {path}});
        handle = await open(path, "r");
    } catch (error) {
        if (error instanceof OrchardError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR")
            throw new OrchardError("MODEL_NOT_FOUND", `${path}: no such file`, {cause: error, details: {path}});
        throw new OrchardError("MODEL_INVALID", `${path}: cannot be read (${code ?? String(error)})`, {cause: error, details: {path}});
    }
    // size from the open handle, not the earlier stat, so a file replaced in between is judged consistently
    const {size} = await handle.stat();
    return {handle, fileSize: size};
}

async function parseHeader(cursor: HeaderCursor, path: string, fileSize: number): Promise<GgufHeader> {
    const invalid = (what: string): OrchardError => new OrchardError("MODEL_INVALID", `${path}: ${what}`, {details: {path}});

    if (fileSize < 4) throw invalid(`not a GGUF file (only ${fileSize} bytes)`);
    await cursor.need(4);
    const magic = cursor.u32();
    if (magic !== GGUF_MAGIC)
        throw invalid(`not a GGUF file (magic 0x${magic.toString(16).padStart(8, "0")}, expected 0x${GGUF_MAGIC.toString(16)} "GGUF")`);
    await cursor.need(4 + 8 + 8);
    const version = cursor.u32();
    if (!SUPPORTED_VERSIONS.includes(version)) {
        const bigEndian = version > 0xffff && SUPPORTED_VERSIONS.includes(byteSwap32(version));
        throw invalid(bigEndian ? "big-endian GGUF files are not supported" : `unsupported GGUF version ${version} (supported: ${SUPPORTED_VERSIONS.join(", ")})`);
    }
    // every entry takes bytes, so a count above the file size means garbage, not a huge allocation
    const tensorCount = cursor.count(fileSize, "tensor count");
    const metadataCount = cursor.count(fileSize, "metadata count");

    const metadata = new Map<string, GgufMetadataValue>();
    for (let i = 0; i < metadataCount; i++) {
        const key = await cursor.string();
        await cursor.need(4);
        const type = cursor.u32() as GgufValueType;
        if (metadata.has(key)) throw invalid(`duplicate metadata key "${key}"`);
        metadata.set(key, await readMetadataValue(cursor, type, key, invalid));
    }

    const alignment = readAlignment(metadata, invalid);

    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
        const name = await cursor.string();
        await cursor.need(4);
        const dims = cursor.u32();
        if (dims === 0 || dims > MAX_TENSOR_DIMS) throw invalid(`tensor "${name}" has ${dims} dimensions`);
        await cursor.need(dims * 8 + 4 + 8);
        const shape: number[] = [];
        // no ggml type packs below one bit per element, so a dimension above 8 x file size is garbage
        for (let d = 0; d < dims; d++) shape.push(cursor.count(fileSize * 8, `dimension ${d} of tensor "${name}"`));
        const type = cursor.u32() as GgmlType;
        const offset = cursor.count(fileSize, `offset of tensor "${name}"`);
        if (offset % alignment !== 0) throw invalid(`tensor "${name}" offset ${offset} is not a multiple of the alignment ${alignment}`);
        tensors.push({name, shape, type, offset});
    }

    const dataOffset = alignUp(cursor.offset, alignment);
    for (const tensor of tensors) {
        const layout = KNOWN_TYPE_LAYOUT.get(tensor.type);
        // unknown (newer) types cannot be sized; llama.cpp will judge those itself
        if (layout === undefined) continue;
        const elements = tensor.shape.reduce((a, b) => a * b, 1);
        if (elements % layout.blockSize !== 0)
            throw invalid(`tensor "${tensor.name}" has ${elements} elements, not a whole number of ${layout.blockSize}-element blocks`);
        const end = dataOffset + tensor.offset + tensorBytes(tensor.shape, layout);
        if (end > fileSize) throw invalid(`truncated: tensor "${tensor.name}" ends at byte ${end} but the file has ${fileSize} bytes`);
    }

    return {path, version, metadata, tensors, alignment, dataOffset, fileSize};
}

async function readMetadataValue(cursor: HeaderCursor, type: GgufValueType, key: string, invalid: (what: string) => OrchardError): Promise<GgufMetadataValue> {
    if (type === GgufValueType.STRING) return {type, value: await cursor.string()};
    if (type === GgufValueType.ARRAY) {
        await cursor.need(4 + 8);
        const elementType = cursor.u32() as GgufValueType;
        if (elementType === GgufValueType.ARRAY) throw invalid(`metadata "${key}" is a nested array, which is not supported`);
        const size = scalarSize(elementType);
        if (elementType !== GgufValueType.STRING && size === undefined)
            throw invalid(`metadata "${key}" has unknown array element type ${elementType}`);
        const length = cursor.count(cursor.remainingInFile / Math.max(1, size ?? 8), `length of metadata array "${key}"`);
        const values: (string | number | bigint | boolean)[] = new Array(length);
        if (elementType === GgufValueType.STRING) {
            for (let i = 0; i < length; i++) values[i] = cursor.stringIfAvailable() ?? await cursor.string();
        } else {
            const elementSize = size as number;
            for (let i = 0; i < length; i++) {
                // await only on a window refill: awaiting per element would dominate a 32,000-entry array
                if (cursor.available < elementSize) await cursor.need(elementSize);
                values[i] = cursor.scalar(elementType);
            }
        }
        return {type, elementType, value: values};
    }
    const size = scalarSize(type);
    if (size === undefined) throw invalid(`metadata "${key}" has unknown value type ${type}`);
    await cursor.need(size);
    const value = cursor.scalar(type);
    if (type === GgufValueType.BOOL) return {type, value: value as boolean};
    return {type, value: value as number | bigint};
}

function readAlignment(metadata: ReadonlyMap<string, GgufMetadataValue>, invalid: (what: string) => OrchardError): number {
    const entry = metadata.get("general.alignment");
    if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
    const value = typeof entry.value === "number" || typeof entry.value === "bigint" ? Number(entry.value) : NaN;
    // the spec requires a power of two; a zero or odd value would make every offset computation meaningless
    if (!Number.isSafeInteger(value) || value <= 0 || (value & (value - 1)) !== 0)
        throw invalid(`general.alignment ${String(entry.value)} is not a positive power of two`);
    return value;
}

function scalarSize(type: GgufValueType): number | undefined {
    switch (type) {
        case GgufValueType.UINT8: case GgufValueType.INT8: case GgufValueType.BOOL: return 1;
        case GgufValueType.UINT16: case GgufValueType.INT16: return 2;
        case GgufValueType.UINT32: case GgufValueType.INT32: case GgufValueType.FLOAT32: return 4;
        case GgufValueType.UINT64: case GgufValueType.INT64: case GgufValueType.FLOAT64: return 8;
        default: return undefined;
    }
}

function tensorBytes(shape: readonly number[], layout: {readonly blockSize: number; readonly bytesPerBlock: number}): number {
    const elements = shape.reduce((a, b) => a * b, 1);
    return Math.ceil(elements / layout.blockSize) * layout.bytesPerBlock;
}

function unsupportedType(path: string, tensor: GgufTensorInfo): OrchardError {
    return new OrchardError(
        "MODEL_INVALID",
        `${path}: tensor "${tensor.name}" has ggml type ${tensor.type}, which cannot be dequantized here (supported: f32, f16, q8_0, q4_0)`,
        {details: {path, tensor: tensor.name, ggmlType: tensor.type}}
    );
}

function byteSwap32(value: number): number {
    return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}

/**
 * A forward-only window over the file. Readers call `need(n)` before reading n bytes; the sync
 * getters then decode straight from the window, so parsing costs one await per refill, not per value.
 */
class HeaderCursor {
    private window: Buffer = Buffer.alloc(0);
    /** File offset of window[0]. */
    private windowStart = 0;
    /** Read position inside the window. */
    private position = 0;
    private readonly handle: FileHandle;
    private readonly fileSize: number;
    private readonly path: string;

    public constructor(handle: FileHandle, fileSize: number, path: string) {
        this.handle = handle;
        this.fileSize = fileSize;
        this.path = path;
    }

    public get offset(): number {
        return this.windowStart + this.position;
    }

    public get available(): number {
        return this.window.length - this.position;
    }

    public get remainingInFile(): number {
        return this.fileSize - this.offset;
    }

    /** Makes at least `bytes` bytes readable at the current position, or reports truncation. */
    public async need(bytes: number): Promise<void> {
        if (this.available >= bytes) return;
        if (bytes > this.remainingInFile)
            throw new OrchardError("MODEL_INVALID", `${this.path}: truncated: the header needs ${bytes} bytes at offset ${this.offset} but the file has ${this.fileSize} bytes`, {details: {path: this.path}});
        const keep = this.available;
        const size = Math.min(Math.max(READ_CHUNK_BYTES, bytes), this.remainingInFile);
        const next = Buffer.allocUnsafe(size);
        this.window.copy(next, 0, this.position);
        let filled = keep;
        while (filled < size) {
            const {bytesRead} = await this.handle.read(next, filled, size - filled, this.offset + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
        }
        if (filled < bytes)
            throw new OrchardError("MODEL_INVALID", `${this.path}: truncated: the file ended while reading the header at offset ${this.offset + filled}`, {details: {path: this.path}});
        this.windowStart = this.offset;
        this.window = next.subarray(0, filled);
        this.position = 0;
    }

    public u32(): number {
        const value = this.window.readUInt32LE(this.position);
        this.position += 4;
        return value;
    }

    /** A u64 count or size that must be a safe integer no larger than `max` (else the header is garbage). */
    public count(max: number, what: string): number {
        const value = this.window.readBigUInt64LE(this.position);
        this.position += 8;
        if (value > BigInt(Math.min(Number.MAX_SAFE_INTEGER, Math.floor(max))))
            throw new OrchardError("MODEL_INVALID", `${this.path}: implausible ${what} ${value} (the file has ${this.fileSize} bytes)`, {details: {path: this.path}});
        return Number(value);
    }

    public async string(): Promise<string> {
        return this.stringIfAvailable() ?? await this.stringSlow();
    }

    /**
     * The next string when the window already holds all of it, else undefined with nothing consumed.
     * Lets a 32,000-entry token array parse without a promise per element.
     */
    public stringIfAvailable(): string | undefined {
        if (this.available < 8) return undefined;
        const length = this.window.readBigUInt64LE(this.position);
        if (BigInt(this.available - 8) < length) return undefined;
        const start = this.position + 8;
        const end = start + Number(length);
        this.position = end;
        return this.window.toString("utf8", start, end);
    }

    private async stringSlow(): Promise<string> {
        await this.need(8);
        const length = this.count(this.remainingInFile, "string length");
        await this.need(length);
        const value = this.window.toString("utf8", this.position, this.position + length);
        this.position += length;
        return value;
    }

    /** One fixed-size value; the caller has already made its bytes available. */
    public scalar(type: GgufValueType): number | bigint | boolean {
        const at = this.position;
        const window = this.window;
        switch (type) {
            case GgufValueType.UINT8: this.position += 1; return window.readUInt8(at);
            case GgufValueType.INT8: this.position += 1; return window.readInt8(at);
            case GgufValueType.BOOL: this.position += 1; return window.readUInt8(at) !== 0;
            case GgufValueType.UINT16: this.position += 2; return window.readUInt16LE(at);
            case GgufValueType.INT16: this.position += 2; return window.readInt16LE(at);
            case GgufValueType.UINT32: this.position += 4; return window.readUInt32LE(at);
            case GgufValueType.INT32: this.position += 4; return window.readInt32LE(at);
            case GgufValueType.FLOAT32: this.position += 4; return window.readFloatLE(at);
            // 64-bit integers stay bigint so that values above 2^53 survive a read-write round trip
            case GgufValueType.UINT64: this.position += 8; return window.readBigUInt64LE(at);
            case GgufValueType.INT64: this.position += 8; return window.readBigInt64LE(at);
            case GgufValueType.FLOAT64: this.position += 8; return window.readDoubleLE(at);
            default: throw new RangeError(`not a scalar GGUF value type: ${String(type)}`);
        }
    }
}
