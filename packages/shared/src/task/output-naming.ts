/**
 * How a run names its output files. "input-name" (runs made since task kinds had two outputs): the
 * whole input file name plus the kind's suffix, the convention of the tutorials this project
 * serves (`eval_set.jsonl` -> `eval_set.jsonl.attributes.jsonl`). "stem" (every run made before,
 * whose spec has no `outputNaming`): the input name without `.jsonl`/`.ndjson`/`.json`, plus the
 * suffix (`eval_set.attributes.jsonl`); such a run keeps its names when resumed.
 */
export type OutputNaming = "input-name" | "stem";

/** The naming of new runs. */
export const CURRENT_OUTPUT_NAMING: OutputNaming = "input-name";

/** The naming of a run spec (absent: a run made before the naming was recorded). */
export function outputNamingOf(spec: {readonly outputNaming?: "input-name" | undefined}): OutputNaming {
    return spec.outputNaming ?? "stem";
}

/** An output file name: the input's file name (its base name) named by `naming`, then `suffix` (e.g. ".attributes.jsonl"). */
export function namedOutputFile(inputFileName: string, suffix: string, naming: OutputNaming = CURRENT_OUTPUT_NAMING): string {
    return naming === "stem" ? `${inputFileName.replace(/\.(jsonl|ndjson|json)$/i, "")}${suffix}` : `${inputFileName}${suffix}`;
}
