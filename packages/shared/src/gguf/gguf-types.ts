/**
 * GGUF v3 constants shared by the reader and the writer.
 * Spec: ggml's docs/gguf.md. Little-endian throughout; strings are u64 length + UTF-8 bytes.
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
/** Default alignment of the tensor data section and of each tensor in it (bytes). */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf_metadata_value_type). */
export enum GgufValueType {
    UINT8 = 0,
    INT8 = 1,
    UINT16 = 2,
    INT16 = 3,
    UINT32 = 4,
    INT32 = 5,
    FLOAT32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    UINT64 = 10,
    INT64 = 11,
    FLOAT64 = 12
}

/** Tensor element types this project reads and writes (ggml_type ids). */
export enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8
}

/** Elements per block and bytes per block for each supported ggml type. */
export const GGML_TYPE_LAYOUT: Readonly<Record<GgmlType, {readonly blockSize: number; readonly bytesPerBlock: number}>> = {
    [GgmlType.F32]: {blockSize: 1, bytesPerBlock: 4},
    [GgmlType.F16]: {blockSize: 1, bytesPerBlock: 2},
    // q4_0: one f16 scale + 16 bytes of packed 4-bit values per 32 elements
    [GgmlType.Q4_0]: {blockSize: 32, bytesPerBlock: 18},
    // q8_0: one f16 scale + 32 int8 values per 32 elements
    [GgmlType.Q8_0]: {blockSize: 32, bytesPerBlock: 34}
};

/** A metadata value as held in memory; arrays keep their element type so they round-trip. */
export type GgufMetadataValue =
    | {type: GgufValueType.STRING; value: string}
    | {type: GgufValueType.BOOL; value: boolean}
    | {type: Exclude<GgufValueType, GgufValueType.STRING | GgufValueType.BOOL | GgufValueType.ARRAY>; value: number | bigint}
    | {type: GgufValueType.ARRAY; elementType: GgufValueType; value: readonly (string | number | bigint | boolean)[]};

/** One tensor's header entry. `shape` is ggml order: fastest-varying dimension first. */
export interface GgufTensorInfo {
    readonly name: string;
    readonly shape: readonly number[];
    readonly type: GgmlType;
    /** Offset from the start of the tensor data section, in bytes. */
    readonly offset: number;
}

/** Number of bytes a tensor of `shape` and `type` occupies in the data section. */
export function ggmlTensorBytes(shape: readonly number[], type: GgmlType): number {
    const elements = shape.reduce((a, b) => a * b, 1);
    const layout = GGML_TYPE_LAYOUT[type];
    if (elements % layout.blockSize !== 0)
        throw new RangeError(`tensor of ${elements} elements is not a whole number of ${GgmlType[type]} blocks`);
    return (elements / layout.blockSize) * layout.bytesPerBlock;
}

export function alignUp(value: number, alignment: number): number {
    return Math.ceil(value / alignment) * alignment;
}
