import {open} from "node:fs/promises";
import {dirname, resolve} from "node:path";
import {
    assertOutputPath, ensureOutputDirectory, formatGenerateOutputLine, isSameFile, maxGeneratedLineBytes, OrchardError, outputPathError, readJsonSchemaFile,
    type GeneratedFields
} from "@orchard/shared";
import {DurableLineWriter} from "../extract/durable-line-writer.ts";
import {findResumePoint} from "../extract/output-resume.ts";
import type {GenerationFailureCode} from "./document-generator.ts";
import {readGenerateInput, type GenerateDocument} from "./generate-input.ts";
import {resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions} from "./generate-options.ts";
import {GenerationEngine} from "./generation-engine.ts";

/** A document that got no output line. */
export interface GenerateFailure {
    readonly lineNumber: number;
    readonly id: string;
    readonly code: GenerationFailureCode | "OUTPUT_FIELD_INVALID";
    readonly reason: string;
}

export interface GenerateSummary {
    readonly totalDocuments: number;
    /** Input documents at or before the last line already in the output when this invocation started. */
    readonly resumedDocuments: number;
    /** Lines written by this invocation. */
    readonly documents: number;
    readonly failures: readonly GenerateFailure[];
    readonly promptTokens: number;
    readonly completionTokens: number;
    readonly seconds: number;
    /** Generated tokens per second of this invocation. */
    readonly tokensPerSecond: number;
    readonly repairedBytes: number;
    /** node-llama-cpp's chat wrapper for the model (JinjaTemplate: the GGUF's own template). */
    readonly chatWrapper: string;
}

export interface GenerateHooks {
    /** Called after each document (written or failed). */
    readonly onProgress?: (progress: {done: number; total: number; completionTokens: number; elapsedMs: number}) => void;
    /** Stops after the document in flight is written (the output stays resumable). */
    readonly signal?: AbortSignal;
}

/**
 * `orchard generate`: one process, one model, one input. Validates the whole input (fields the
 * message needs, prompt lengths) before writing anything, resumes after the last complete output
 * line, writes lines in input order. A document whose completion cannot be written whole (JSON cut
 * by --max-tokens...) gets no line and is listed in `failures`; the others are written.
 */
export async function runGenerate(options: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateSummary> {
    const resolved = resolveGenerateOptions(options);
    if (resolve(resolved.inputPath) === resolve(resolved.outputPath) || await isSameFile(resolved.outputPath, resolved.inputPath))
        throw new OrchardError("INVALID_ARGUMENT", `--output ${resolved.outputPath} is the input file ${resolved.inputPath} (or a link to it): choose another path`);
    const log = resolved.logger?.child({component: "generate"});
    await assertOutputPath(resolved.outputPath, "file", "--output");
    const schema = resolved.jsonSchemaPath === undefined ? undefined : await readJsonSchemaFile(resolved.jsonSchemaPath);

    await using engine = await GenerationEngine.load({
        modelPath: resolved.modelPath,
        contextSize: resolved.contextSize,
        batchSize: resolved.batchSize,
        threads: resolved.threads,
        gpu: resolved.gpu,
        sampling: resolved.sampling,
        ...(schema === undefined ? {} : {jsonSchema: {schema, schemaFile: resolved.jsonSchemaPath as string}}),
        logger: resolved.logger
    });
    const requestFor = (document: GenerateDocument) => ({id: document.id, message: document.message, system: resolved.system});
    const readInput = () => readGenerateInput(resolved.inputPath, {
        source: resolved.source,
        maxLineBytes: resolved.maxLineBytes,
        check: (document) => {
            const label = resolved.output.format === "reexpress" ? resolved.output.label : undefined;
            if (label?.kind === "input" && !Number.isInteger(document.fields[label.field]))
                return {code: "INVALID_INPUT_LINE", reason: `--label-from ${label.field}: field "${label.field}" must be an integer label`};
            const promptTokens = engine.generator.promptTokens(requestFor(document)).length;
            if (promptTokens + resolved.sampling.maxTokens > engine.contextSize)
                return {code: "DOCUMENT_TOO_LONG", reason: `prompt of ${promptTokens} tokens plus --max-tokens ${resolved.sampling.maxTokens} exceeds the context size of ${engine.contextSize} (raise --context-size)`};
            return undefined;
        }
    });

    // the whole input first: nothing is written for a bad file
    const ids: string[] = [];
    for await (const document of readInput()) ids.push(document.id);
    const total = ids.length;

    await ensureOutputDirectory(dirname(resolve(resolved.outputPath)), "--output");
    const lineFor = (document: GenerateDocument, generated: GeneratedFields) => formatLine(resolved, document, generated);
    let resumeIndex = 0;
    const resumePoint = resolved.overwrite
        ? {completeLines: 0, repairedBytes: 0}
        : await findResumePoint(resolved.outputPath, expectedLines(ids, readInput(), resolved, (index) => { resumeIndex = index; }),
            {outputFile: resolved.outputPath, inputFile: resolved.inputPath}, maxOutputLineBytes(resolved));
    if (resumeIndex > 0 || resumePoint.repairedBytes > 0)
        log?.info({resumed: resumeIndex, total, repairedBytes: resumePoint.repairedBytes},
            `resuming: the first ${resumeIndex} of ${total} documents are done in ${resolved.outputPath}` +
            (resumePoint.repairedBytes > 0 ? ` (cut a torn last line of ${resumePoint.repairedBytes} bytes)` : ""));

    const output = await open(resolved.outputPath, resolved.overwrite ? "w" : "a").catch((error: unknown) => {
        throw outputPathError(error, resolved.outputPath, "--output");
    });
    const started = performance.now();
    const failures: GenerateFailure[] = [];
    let documents = 0;
    let promptTokens = 0;
    let completionTokens = 0;
    try {
        const writer = new DurableLineWriter(output);
        for await (const document of readInput()) {
            if (document.index < resumeIndex) continue;
            if (hooks.signal?.aborted) break;
            const generated = await engine.generator.generate(requestFor(document));
            promptTokens += generated.tokens.prompt;
            completionTokens += generated.tokens.completion;
            const line = generated.ok ? lineFor(document, generated) : generated;
            if (typeof line === "string") {
                await writer.write(line);
                documents++;
            } else {
                failures.push({lineNumber: document.lineNumber, id: document.id, code: line.code, reason: line.reason});
                log?.warn({id: document.id, line: document.lineNumber, code: line.code}, `${resolved.inputPath}:${document.lineNumber} id "${document.id}": ${line.reason}`);
            }
            hooks.onProgress?.({done: document.index + 1, total, completionTokens, elapsedMs: performance.now() - started});
        }
        await writer.sync();
    } finally {
        await output.close();
    }
    const seconds = (performance.now() - started) / 1000;
    return {
        totalDocuments: total,
        resumedDocuments: resumeIndex,
        documents,
        failures,
        promptTokens,
        completionTokens,
        seconds,
        tokensPerSecond: seconds > 0 ? completionTokens / seconds : 0,
        repairedBytes: resumePoint.repairedBytes,
        chatWrapper: engine.generator.chatWrapper.wrapperName
    };
}

/** RUN_INCOMPLETE (exit 4) listing the documents that got no line, `file:line id`, as the fleet lists missing documents. */
export function incompleteGenerationError(inputPath: string, outputPath: string, failures: readonly GenerateFailure[]): OrchardError {
    const shown = failures.slice(0, 20);
    return new OrchardError("RUN_INCOMPLETE", [
        `${failures.length} document${failures.length === 1 ? "" : "s"} of ${inputPath} got no line in ${outputPath}:`,
        ...shown.map((failure) => `  ${inputPath}:${failure.lineNumber} id "${failure.id}": [${failure.code}] ${failure.reason}`),
        ...(failures.length > shown.length ? [`  ... and ${failures.length - shown.length} more`] : []),
        "  (rerunning continues after the last line written; to redo these, run them again in an input of their own, e.g. with a larger --max-tokens)"
    ].join("\n"), {details: {failures}});
}

/** Longest line this input and these settings can write (the fleet's generate task reads back with the same bound). */
function maxOutputLineBytes(resolved: ResolvedGenerateOptions): number {
    return maxGeneratedLineBytes(resolved.maxLineBytes, resolved.sampling.maxTokens);
}

/** The output line of a document; a failure when a Reexpress value is missing or of the wrong type (shared with the fleet's generate task). */
function formatLine(resolved: ResolvedGenerateOptions, document: GenerateDocument, generated: GeneratedFields): string | {code: "OUTPUT_FIELD_INVALID"; reason: string} {
    return formatGenerateOutputLine(resolved.output, resolved.jsonSchemaPath !== undefined, document, generated);
}

/**
 * For findResumePoint: the line each written line should be. Lines are in input order but may skip
 * documents that failed, so each written id is looked up among the documents after the previous
 * one; the generated part is taken from the written line, the rest re-derived from the input.
 */
function expectedLines(ids: readonly string[], documents: AsyncGenerator<GenerateDocument>, resolved: ResolvedGenerateOptions, onMatched: (nextIndex: number) => void) {
    const indexOfId = new Map(ids.map((id, index) => [id, index]));
    let next = 0;
    return async (_line: number, written: Readonly<Record<string, unknown>>) => {
        const at = typeof written["id"] === "string" ? indexOfId.get(written["id"]) : undefined;
        if (at === undefined || at < next) {
            const expectedId = ids[next];
            // a line for no document after the previous one: findResumePoint names both ids
            return expectedId === undefined ? undefined : {id: expectedId, line: ""};
        }
        let document: GenerateDocument | undefined;
        do document = (await documents.next()).value as GenerateDocument | undefined;
        while (document !== undefined && document.index < at);
        if (document === undefined) return undefined;
        next = at + 1;
        onMatched(next);
        const generated = generatedFieldsOf(resolved, written);
        const line = generated === undefined ? "" : formatLine(resolved, document, generated);
        return {id: document.id, line: typeof line === "string" ? line : ""};
    };
}

/** The generated part of a written line (undefined when it has not the shape this command writes). */
function generatedFieldsOf(resolved: ResolvedGenerateOptions, written: Readonly<Record<string, unknown>>): GeneratedFields | undefined {
    if (resolved.output.format === "reexpress") {
        // a Reexpress line keeps only the document and the label: rebuild what they were picked from
        const {document: documentSource, label: labelSource} = resolved.output;
        const json: Record<string, unknown> = {};
        if (documentSource.kind === "json") json[documentSource.field] = written["document"];
        if (labelSource.kind === "json") json[labelSource.field] = written["label"];
        return {completion: typeof written["document"] === "string" ? written["document"] : "", json, finish: "stop", tokens: {prompt: 0, completion: 0}};
    }
    const tokens = written["tokens"] as {prompt?: unknown; completion?: unknown} | undefined;
    if (typeof written["completion"] !== "string" || typeof written["finish"] !== "string" || typeof tokens !== "object" || tokens === null) return undefined;
    if (typeof tokens.prompt !== "number" || typeof tokens.completion !== "number") return undefined;
    return {completion: written["completion"], json: written["json"], finish: written["finish"], tokens: {prompt: tokens.prompt, completion: tokens.completion}};
}
