import {open} from "node:fs/promises";
import {dirname, resolve} from "node:path";
import {
    assertOutputPath, ensureOutputDirectory, formatOutputLine, isSameFile, maxOutputLineBytes,
    OrchardError, outputPathError, readDataset, type PreparedDocument
} from "@orchard/shared";
import {ExtractionEngine, type PrefixReuseCounts} from "../engine/extraction-engine.ts";
import {resolveExtractOptions, type ExtractOptions, type ResolvedExtractOptions} from "./extract-options.ts";
import {DurableLineWriter} from "./durable-line-writer.ts";
import {findResumePoint} from "./output-resume.ts";
import {tokenizeDocumentPrompt} from "./prompt-tokenizer.ts";
import {validateInput} from "./validate-input.ts";

export interface ExtractProgress {
    /** Documents in the output so far (resumed ones included). */
    readonly done: number;
    readonly total: number;
    /** Prompt tokens evaluated by this invocation. */
    readonly tokens: number;
    /** Milliseconds since this invocation started extracting. */
    readonly elapsedMs: number;
}

export interface ExtractSummary {
    readonly totalDocuments: number;
    /** Documents already in the output when this invocation started. */
    readonly resumedDocuments: number;
    /** Documents evaluated by this invocation. */
    readonly documents: number;
    readonly tokens: number;
    readonly seconds: number;
    readonly tokensPerSecond: number;
    readonly documentsPerSecond: number;
    /** Documents whose text was cut to fit the context (--truncate). */
    readonly truncatedDocuments: number;
    /** Bytes of a torn last output line that were cut off before resuming. */
    readonly repairedBytes: number;
    readonly route: string;
    /** How many documents reused their prompt's cached prefix and how many were evaluated in full (--prefix-reuse). */
    readonly prefixReuse: PrefixReuseCounts;
}

export interface ExtractHooks {
    /** Called once the input is validated, before the first document is evaluated. */
    readonly onStart?: (info: {total: number; resumed: number; repairedBytes: number}) => void;
    readonly onProgress?: (progress: ExtractProgress) => void;
    /** Stops after the documents in flight are written (the output stays resumable). */
    readonly signal?: AbortSignal;
}

/**
 * `orchard extract`: one process, one model, one input. Validates the whole input (including
 * prompt lengths) before writing anything, resumes after the last complete output line, writes
 * lines in input order.
 */
export async function runExtract(options: ExtractOptions, hooks: ExtractHooks = {}): Promise<ExtractSummary> {
    const resolved = resolveExtractOptions(options);
    // by identity, not name: a link to the input would be truncated (--overwrite) or cut (resume) as "the output"
    if (resolve(resolved.inputPath) === resolve(resolved.outputPath) || await isSameFile(resolved.outputPath, resolved.inputPath))
        throw new OrchardError("INVALID_ARGUMENT", `--output ${resolved.outputPath} is the input file ${resolved.inputPath} (or a link to it): choose another path`);
    const log = resolved.logger?.child({component: "extract"});
    // before the model loads and the input is read: a folder given as --output is known at once
    await assertOutputPath(resolved.outputPath, "file", "--output");

    await using engine = await ExtractionEngine.load(resolved.engine);
    const tokenize = (text: string) => engine.tokenizePrompt(text);
    const promptFor = (prepared: PreparedDocument) => tokenizeDocumentPrompt(prepared, resolved.prompt.trailingInstruction, tokenize,
        {contextSize: engine.options.contextSize, truncate: resolved.truncate, file: resolved.inputPath});

    const total = await validateInput(resolved, promptFor);

    await ensureOutputDirectory(dirname(resolve(resolved.outputPath)), "--output");
    const lineFor = (prepared: PreparedDocument, attributes: readonly number[]) => formatOutputLine(prepared, attributes, resolved.prompt);
    const resumePoint = resolved.overwrite
        ? {completeLines: 0, repairedBytes: 0}
        : await findResumePoint(resolved.outputPath, expectedLines(resolved, lineFor), {outputFile: resolved.outputPath, inputFile: resolved.inputPath},
            maxOutputLineBytes(resolved.maxLineBytes, resolved.prompt));
    if (resumePoint.completeLines > 0 || resumePoint.repairedBytes > 0)
        log?.info({resumed: resumePoint.completeLines, total, repairedBytes: resumePoint.repairedBytes},
            `resuming: ${resumePoint.completeLines} of ${total} documents already in ${resolved.outputPath}` +
            (resumePoint.repairedBytes > 0 ? ` (cut a torn last line of ${resumePoint.repairedBytes} bytes)` : ""));
    hooks.onStart?.({total, resumed: resumePoint.completeLines, repairedBytes: resumePoint.repairedBytes});

    const output = await open(resolved.outputPath, resolved.overwrite ? "w" : "a").catch((error: unknown) => {
        throw outputPathError(error, resolved.outputPath, "--output");
    });
    const started = performance.now();
    let documents = 0;
    let tokens = 0;
    let truncatedDocuments = 0;
    try {
        const writer = new DurableLineWriter(output);
        const inFlight: Promise<string>[] = [];
        const flushOne = async () => {
            await writer.write(await (inFlight.shift() as Promise<string>));
            documents++;
            hooks.onProgress?.({done: resumePoint.completeLines + documents, total, tokens, elapsedMs: performance.now() - started});
        };
        for await (const prepared of readDataset(resolved.inputPath, resolved.prompt, undefined, {maxLineBytes: resolved.maxLineBytes})) {
            if (prepared.index < resumePoint.completeLines) continue;
            if (hooks.signal?.aborted) break;
            const prompt = promptFor(prepared);
            if (prompt.truncated) truncatedDocuments++;
            tokens += prompt.tokens.length;
            const line = engine.extract(prompt.tokens, prepared.promptText).then((attributes) => lineFor(prepared, attributes));
            line.catch(() => undefined); // awaited in order by flushOne; avoid an unhandled rejection meanwhile
            inFlight.push(line);
            // lines are written in order, but the engine queues prompts for its contexts: keeping twice
            // as many in flight means a context that is done never waits for a slower, older neighbour
            if (inFlight.length >= 2 * engine.options.contexts) await flushOne();
        }
        while (inFlight.length > 0) await flushOne();
        await writer.sync();
    } finally {
        await output.close();
    }
    const seconds = (performance.now() - started) / 1000;
    return {
        totalDocuments: total,
        resumedDocuments: resumePoint.completeLines,
        documents,
        tokens,
        seconds,
        tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
        documentsPerSecond: seconds > 0 ? documents / seconds : 0,
        truncatedDocuments,
        repairedBytes: resumePoint.repairedBytes,
        route: engine.route,
        prefixReuse: engine.prefixReuseCounts
    };
}

/** Expected output lines in order, for checking an existing output before resuming. */
function expectedLines(resolved: ResolvedExtractOptions, lineFor: (prepared: PreparedDocument, attributes: readonly number[]) => string) {
    const documents = readDataset(resolved.inputPath, resolved.prompt, undefined, {maxLineBytes: resolved.maxLineBytes});
    return async (_index: number, written: Readonly<Record<string, unknown>>) => {
        const next = await documents.next();
        if (next.done) return undefined;
        const attributes = Array.isArray(written["attributes"]) ? written["attributes"] as number[] : [];
        return {id: next.value.doc.id, line: lineFor(next.value, attributes)};
    };
}
