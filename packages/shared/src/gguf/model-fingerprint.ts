import {createHash} from "node:crypto";
import {open} from "node:fs/promises";
import {GgufReader} from "./gguf-reader.ts";

/** What identifies a model file across machines: workers take only the jobs of runs with their fingerprint. */
export interface ModelFingerprint {
    /** Hex SHA-256 of the header and sampled tensor data (see modelFingerprint); "sim-" first for the simulated engine. */
    readonly fingerprint: string;
    readonly sizeBytes: number;
    /** `general.name`, for display only. */
    readonly name: string | undefined;
    /** `general.architecture`, for display only. */
    readonly architecture: string | undefined;
}

/** Bytes hashed at each end of the tensor data section. */
const EDGE_BYTES = 1 << 20;
/** Windows sampled between the two ends, and their size: a re-quantized or fine-tuned file differs in all of them. */
const SAMPLE_COUNT = 14;
const SAMPLE_BYTES = 64 << 10;
/** Bumped whenever the recipe changes, so that old and new fingerprints never collide. */
const RECIPE = "orchard-model-fingerprint-v1";

/**
 * Fingerprints a GGUF model without reading all of it (a real Mixtral is ~26-50 GB): SHA-256 over
 * the file size, the whole header (all metadata, vocabulary and tensor table, byte for byte), the
 * first and last MiB of tensor data and 14 evenly spaced 64 KiB windows in between. Copies of
 * one file on different Macs agree; a different quantization, vocabulary or set of weights does
 * not. Reads ~3 MiB plus the header; throws MODEL_NOT_FOUND / MODEL_INVALID like the GGUF reader.
 */
export async function modelFingerprint(path: string): Promise<ModelFingerprint> {
    const reader = await GgufReader.open(path);
    await reader.close();
    const {header} = reader;
    const hash = createHash("sha256");
    hash.update(`${RECIPE}\0${header.fileSize}\0`);
    const handle = await open(path, "r");
    try {
        const readRange = async (start: number, length: number) => {
            const buffer = Buffer.alloc(Math.max(0, Math.min(length, header.fileSize - start)));
            for (let done = 0; done < buffer.length;) {
                const {bytesRead} = await handle.read(buffer, done, buffer.length - done, start + done);
                if (bytesRead === 0) break;
                done += bytesRead;
            }
            hash.update(`${start}:${buffer.length}\0`);
            hash.update(buffer);
        };
        await readRange(0, header.dataOffset);
        const dataBytes = header.fileSize - header.dataOffset;
        if (dataBytes <= 2 * EDGE_BYTES + SAMPLE_COUNT * SAMPLE_BYTES) {
            await readRange(header.dataOffset, dataBytes);
        } else {
            await readRange(header.dataOffset, EDGE_BYTES);
            const middleStart = header.dataOffset + EDGE_BYTES;
            const middleBytes = dataBytes - 2 * EDGE_BYTES;
            for (let i = 0; i < SAMPLE_COUNT; i++)
                await readRange(middleStart + Math.floor(((i + 0.5) * middleBytes) / SAMPLE_COUNT) - SAMPLE_BYTES / 2, SAMPLE_BYTES);
            await readRange(header.fileSize - EDGE_BYTES, EDGE_BYTES);
        }
    } finally {
        await handle.close();
    }
    const text = (key: string) => {
        const value = header.metadata.get(key)?.value;
        return typeof value === "string" ? value : undefined;
    };
    return {fingerprint: hash.digest("hex"), sizeBytes: header.fileSize, name: text("general.name"), architecture: text("general.architecture")};
}

/**
 * The fingerprint a worker with the simulated engine advertises for a model: its own namespace
 * ("sim-"), so simulated attributes can never be taken for, or merged into, a real run's output.
 */
export function simulatedEngineFingerprint(real: ModelFingerprint): ModelFingerprint {
    const digest = createHash("sha256").update(`orchard-simulated-engine-v1\0${real.fingerprint}`).digest("hex");
    return {...real, fingerprint: `sim-${digest}`};
}
