import {basename, join, resolve} from "node:path";
import {CURRENT_OUTPUT_NAMING, isSameFile, OrchardError, outputNamingOf, runTaskOf, taskKind, type OutputNaming, type RunSpec, type TaskKind} from "@orchard/shared";

/**
 * The one owner of a run's output paths: `<dir>/<the task kind's name of the input's file name>`
 * for each input (the main output; a kind's companion outputs come from `companionOutputPaths`), named by
 * `naming` (new runs: the whole input name plus the suffix; a run made before that keeps its "stem" names). Everything that writes an output uses paths from here (through a spec checked by
 * `assertDerivedOutputs`), never a path read back from Redis as such. Two inputs may not share a name.
 */
export function outputPaths(inputPaths: readonly string[], outputDir: string, kind: TaskKind = taskKind("reask"), naming: OutputNaming = CURRENT_OUTPUT_NAMING): string[] {
    const outputs = inputPaths.map((input) => join(resolve(outputDir), kind.outputFileName(basename(input), naming)));
    const companions = companionOutputPaths(inputPaths, outputDir, kind, naming);
    // every file of every input, main outputs and companions alike: none may be an input or another's file
    const seen = new Map<string, string>();
    for (const [i, input] of inputPaths.entries()) {
        for (const output of [outputs[i] as string, ...(companions[i] as string[])]) {
            if (resolve(input) === output) throw new OrchardError("INVALID_ARGUMENT", `the output of ${input} would be the input itself: choose another --output-dir`);
            const other = seen.get(output);
            if (other !== undefined) throw new OrchardError("INVALID_ARGUMENT", `${other} and ${input} would both be written to ${output}: rename one`);
            seen.set(output, input);
        }
    }
    return outputs;
}

/**
 * Per input, the paths of the task kind's companion outputs (classify's predictions), derived as the
 * main outputs are: `<dir>/<companion's name of the input's file name>`. Never stored in the spec: a
 * spec whose main outputs pass `assertDerivedOutputs` derives them, so they are as checked as the main ones.
 */
export function companionOutputPaths(inputPaths: readonly string[], outputDir: string, kind: TaskKind, naming: OutputNaming = CURRENT_OUTPUT_NAMING): string[][] {
    return inputPaths.map((input) => (kind.companionOutputs ?? []).map((companion) => join(resolve(outputDir), companion.fileName(basename(input), naming))));
}

/** `companionOutputPaths` of a checked spec (its kind and naming). */
export function specCompanionOutputPaths(spec: RunSpec): string[][] {
    return companionOutputPaths(spec.inputs.map((input) => input.path), spec.outputDir, taskKind(runTaskOf(spec).kind), outputNamingOf(spec));
}

/** Every output file of a checked spec: per input, its main output, then its companions. */
export function allOutputPaths(spec: RunSpec): string[] {
    const companions = specCompanionOutputPaths(spec);
    return spec.inputs.flatMap((input, i) => [input.output, ...(companions[i] as string[])]);
}

/**
 * Refuses a stored spec whose outputs are not exactly what `outputPaths` derives from its output
 * folder and inputs (a record changed in Redis could name any file as an output), or whose paths
 * are not absolute. `field` names what differs, for the message.
 */
export function assertDerivedOutputs(spec: RunSpec): void {
    // paths from Redis are quoted as JSON in messages: no control character reaches the terminal
    const refuse = (field: string, what: string) => new OrchardError("RUN_RECORD_MISMATCH",
        `run ${spec.runId}'s record in Redis is refused: its ${field} ${what}; no file was touched`, {details: {field}});
    if (resolve(spec.outputDir) !== spec.outputDir) throw refuse("outputDir", "is not an absolute path");
    for (const [i, input] of spec.inputs.entries())
        if (resolve(input.path) !== input.path) throw refuse(`inputs[${i}].path`, "is not an absolute path");
    let derived: string[];
    try {
        derived = outputPaths(spec.inputs.map((input) => input.path), spec.outputDir, taskKind(runTaskOf(spec).kind), outputNamingOf(spec));
    } catch {
        throw refuse("inputs", "give no valid outputs (two share a name, or one would be its own output)");
    }
    for (const [i, input] of spec.inputs.entries())
        if (input.output !== derived[i]) throw refuse(`inputs[${i}].output`, `is ${JSON.stringify(input.output)}, not ${JSON.stringify(derived[i])} (its output folder plus its input's name)`);
}

/**
 * Refuses outputs that are one of the inputs by identity (a symbolic or hard link to an input, in
 * the output folder or through a linked folder): writing the output would destroy that input.
 */
export async function assertOutputsAreNotInputs(inputs: readonly {readonly path: string; readonly displayPath: string}[], outputs: readonly string[]): Promise<void> {
    for (const output of outputs)
        for (const input of inputs)
            if (await isSameFile(output, input.path))
                throw new OrchardError("INVALID_ARGUMENT", `${output} is the input ${input.displayPath} (or a link to it): writing the output would destroy the input; choose another --output-dir`);
}
