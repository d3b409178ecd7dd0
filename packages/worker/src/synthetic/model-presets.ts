import {GgmlType, OrchardError} from "@orchard/shared";

/** Shapes of the synthetic Mixtral-architecture models Orchard can generate. */

export const MODEL_PRESET_NAMES = ["tiny", "bench", "mixtral-width", "mixtral-8x7b"] as const;
export type ModelPresetName = (typeof MODEL_PRESET_NAMES)[number];

export const MODEL_WEIGHT_TYPES = ["f32", "f16", "q8_0"] as const;
export type ModelWeightType = (typeof MODEL_WEIGHT_TYPES)[number];

export interface ModelPreset {
    readonly name: ModelPresetName;
    /** n_embd (E). */
    readonly embeddingLength: number;
    readonly blockCount: number;
    readonly headCount: number;
    readonly headCountKv: number;
    /** Per-expert hidden size (F). */
    readonly feedForwardLength: number;
    readonly expertCount: number;
    readonly expertUsedCount: number;
    readonly contextLength: number;
    /** Weight types this preset may be written in. */
    readonly types: readonly ModelWeightType[];
}

const MIXTRAL_SHARED = {expertCount: 8, expertUsedCount: 2, contextLength: 32768} as const;

export const MODEL_PRESETS: Readonly<Record<ModelPresetName, ModelPreset>> = {
    // The test model: ~19 MB in f32, loads in milliseconds; the vocabulary dominates its size.
    tiny: {
        name: "tiny", embeddingLength: 64, blockCount: 2, headCount: 4, headCountKv: 2, feedForwardLength: 128,
        ...MIXTRAL_SHARED, types: MODEL_WEIGHT_TYPES
    },
    // The benchmark model: Mixtral's depth (32 blocks) and GQA ratio (4) with a narrow E and wide
    // experts, so that the 32000-row LM head stays a small share of per-token compute (~7% of
    // ~230 MFLOP; ~1% in the real model) while plain f16 prefill of a 300-token prompt on 2 CPU
    // threads takes ~2.5 ms per token (measured on the 2-core dev machine: 2.52-2.59 ms). ~850 MB in f16.
    bench: {
        name: "bench", embeddingLength: 256, blockCount: 32, headCount: 8, headCountKv: 2, feedForwardLength: 2048,
        ...MIXTRAL_SHARED, types: MODEL_WEIGHT_TYPES
    },
    // Mixtral-8x7B's real width (E 4096, 8 experts of F 14336, 32 heads / 8 KV heads) with 2 of its
    // 32 layers: per-token cost per layer is the real model's; ~3.2 B parameters (8% of them the
    // 32000-row embedding and LM head), ~3.4 GB in q8_0. For GPU benchmarks.
    "mixtral-width": {
        name: "mixtral-width", embeddingLength: 4096, blockCount: 2, headCount: 32, headCountKv: 8, feedForwardLength: 14336,
        ...MIXTRAL_SHARED, types: ["q8_0"]
    },
    // Mixtral-8x7B v0.1's real shape: ~46.7 B parameters, ~49.6 GB in q8_0 (f16/f32 would be 93-187 GB).
    "mixtral-8x7b": {
        name: "mixtral-8x7b", embeddingLength: 4096, blockCount: 32, headCount: 32, headCountKv: 8, feedForwardLength: 14336,
        ...MIXTRAL_SHARED, types: ["q8_0"]
    }
};

/** The ggml tensor type of the preset's big matrices for a weight type. */
export function ggmlTypeOf(type: ModelWeightType): GgmlType {
    switch (type) {
        case "f32": return GgmlType.F32;
        case "f16": return GgmlType.F16;
        case "q8_0": return GgmlType.Q8_0;
    }
}

/** `general.file_type` (llama_ftype): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7. */
export function llamaFileTypeOf(type: ModelWeightType): number {
    switch (type) {
        case "f32": return 0;
        case "f16": return 1;
        case "q8_0": return 7;
    }
}

/** The preset, after checking that it exists and can be written in `type`. */
export function resolveModelPreset(preset: string, type: string): ModelPreset {
    if (!(MODEL_PRESET_NAMES as readonly string[]).includes(preset))
        throw new OrchardError("INVALID_ARGUMENT", `unknown model preset "${preset}" (expected one of ${MODEL_PRESET_NAMES.join(", ")})`);
    if (!(MODEL_WEIGHT_TYPES as readonly string[]).includes(type))
        throw new OrchardError("INVALID_ARGUMENT", `unknown weight type "${type}" (expected one of ${MODEL_WEIGHT_TYPES.join(", ")})`);
    const resolved = MODEL_PRESETS[preset as ModelPresetName];
    if (!resolved.types.includes(type as ModelWeightType))
        throw new OrchardError("INVALID_ARGUMENT",
            `preset ${preset} can only be synthesized as ${resolved.types.join(", ")}, not ${type}: its f32/f16 file would be far too large`);
    return resolved;
}
