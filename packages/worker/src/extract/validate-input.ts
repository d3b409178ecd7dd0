import {InputLineError, InputValidationError, MAX_REPORTED_INPUT_ERRORS, OrchardError, readDataset, type PreparedDocument} from "@orchard/shared";
import type {ResolvedExtractOptions} from "./extract-options.ts";

/** Reads the whole input once: schema, ids, and that every prompt fits the context. Returns the document count. */
export async function validateInput(resolved: Pick<ResolvedExtractOptions, "inputPath" | "prompt" | "maxLineBytes">, promptFor: (prepared: PreparedDocument) => unknown): Promise<number> {
    const tooLong: InputLineError[] = [];
    let count = 0;
    try {
        for await (const prepared of readDataset(resolved.inputPath, resolved.prompt, undefined, {maxLineBytes: resolved.maxLineBytes})) {
            count++;
            try {
                promptFor(prepared);
            } catch (error) {
                if (!(error instanceof OrchardError && error.code === "DOCUMENT_TOO_LONG")) throw error;
                if (tooLong.length < MAX_REPORTED_INPUT_ERRORS) {
                    const reason = error.message.slice(error.message.indexOf(": ") + 2);
                    tooLong.push(new InputLineError("DOCUMENT_TOO_LONG", resolved.inputPath, prepared.lineNumber, reason));
                }
            }
        }
    } catch (error) {
        if (error instanceof InputValidationError)
            throw new InputValidationError(resolved.inputPath, [...error.problems, ...tooLong].slice(0, MAX_REPORTED_INPUT_ERRORS), error.problems.length + tooLong.length > MAX_REPORTED_INPUT_ERRORS);
        throw error;
    }
    if (tooLong.length > 0) throw new InputValidationError(resolved.inputPath, tooLong, false);
    return count;
}

