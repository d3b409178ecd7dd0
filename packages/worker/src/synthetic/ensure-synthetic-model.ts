import {access} from "node:fs/promises";
import {join, resolve} from "node:path";
import {OrchardError, readGgufHeader} from "@orchard/shared";
import {resolveModelPreset, type ModelPresetName, type ModelWeightType} from "./model-presets.ts";
import {synthesizeModel, SYNTHETIC_MODEL_FORMAT} from "./synthesize-model.ts";

export interface EnsureSyntheticModelOptions {
    readonly preset: ModelPresetName;
    readonly type: ModelWeightType;
    readonly seed: number;
    /** Folder that caches synthetic models by name. */
    readonly dir: string;
}

/** Cache file name of a synthetic model: `<preset>-<type>-seed<seed>.gguf`. */
export function syntheticModelFileName(preset: ModelPresetName, type: ModelWeightType, seed: number): string {
    return `${preset}-${type}-seed${seed}.gguf`;
}

/** Synthesis in progress in this process, by absolute path, so concurrent callers share one run. */
const inFlight = new Map<string, Promise<string>>();

/**
 * The absolute path of `<dir>/<preset>-<type>-seed<seed>.gguf`, synthesizing the model first when
 * that file is absent or was written by another version of the synthesizer (its
 * `orchard.synthetic.format` differs: e.g. a cached file from before models carried a chat
 * template), or is no GGUF at all. Only the header is read; synthesis renames a complete file into
 * place, so a file under the final name is never a half-written one. Separate processes racing on the same
 * name each write their own temporary file and the last rename wins, with identical bytes.
 */
export async function ensureSyntheticModel(options: EnsureSyntheticModelOptions): Promise<string> {
    // reject what synthesis would reject (mixtral-8x7b in f32...) even when a file has that name
    resolveModelPreset(options.preset, options.type);
    if (!Number.isSafeInteger(options.seed) || options.seed < 0)
        throw new OrchardError("INVALID_ARGUMENT", `seed must be a non-negative integer, got ${options.seed}`);
    const path = resolve(join(options.dir, syntheticModelFileName(options.preset, options.type, options.seed)));
    let pending = inFlight.get(path);
    if (pending === undefined) {
        // registered before the first await, so a concurrent caller finds it
        pending = (async () => (await isCurrent(path)) ? path : (await synthesizeModel({...options, outPath: path})).path)()
            .finally(() => inFlight.delete(path));
        inFlight.set(path, pending);
    }
    return pending;
}

/** Whether `path` is a synthetic model of the current format (false when absent or unreadable as GGUF). */
async function isCurrent(path: string): Promise<boolean> {
    try {
        await access(path);
    } catch {
        return false;
    }
    try {
        const format = (await readGgufHeader(path)).metadata.get("orchard.synthetic.format");
        return format !== undefined && Number(format.value) === SYNTHETIC_MODEL_FORMAT;
    } catch {
        return false;
    }
}
