import {open} from "node:fs/promises";
import {dirname, resolve} from "node:path";
import {
    assertOutputPath, ensureOutputDirectory, formatOutputLine, formatPredictionLine, isSameFile, maxOutputLineBytes, OrchardError, outputPathError,
    parsePredictionLine, readDataset, readLabelSet, type LabelSet, type PreparedDocument
} from "@orchard/shared";
import {ExtractionEngine} from "../engine/extraction-engine.ts";
import {DurableLineWriter} from "../extract/durable-line-writer.ts";
import type {ExtractHooks, ExtractSummary} from "../extract/extract-job.ts";
import {resolveExtractOptions, type ResolvedExtractOptions} from "../extract/extract-options.ts";
import {findResumePoint, keepFirstLines} from "../extract/output-resume.ts";
import {validateInput} from "../extract/validate-input.ts";
import {checkClassifyPrompts, classifyDocument} from "./classify-document.ts";
import {predictionsPathFor, type ClassifyJobOptions} from "./classify-job-options.ts";
import {resolveClassifySettings} from "./classify-settings.ts";

export interface ClassifySummary extends ExtractSummary {
    /** Where the predictions went. */
    readonly predictionsPath: string;
}

/**
 * `orchard extract --task classify`: extract's single-process job, with classifyDocument as the
 * per-document computation and two outputs in input order.
 *
 * Consistency of the two files: each document's predictions line is written before its
 * attributes line (the attributes were computed from that prediction). A resume checks both
 * files line by line against this input and labels (as extract does), then continues after
 * the shorter one, cutting the longer one back to it: after a kill at any point, including
 * between the two writes of one document or with only one file flushed, both files again hold
 * the same documents, and the documents cut are computed again.
 */
export async function runClassify(options: ClassifyJobOptions, hooks: ExtractHooks = {}): Promise<ClassifySummary> {
    const resolved = resolveExtractOptions(options);
    const predictionsPath = options.predictionsPath ?? predictionsPathFor(resolved.outputPath);
    await assertDistinctFiles([
        {path: resolved.inputPath, flag: "--input"}, {path: options.labelsPath, flag: "--labels"},
        {path: resolved.outputPath, flag: "--output"}, {path: predictionsPath, flag: "--predictions-output"}
    ]);
    const labelSet = await readLabelSet(options.labelsPath);
    const settings = resolveClassifySettings({labelSet, labelPrompt: options.labelPrompt, prompt: resolved.prompt, truncate: resolved.truncate, inputFile: resolved.inputPath});
    const log = resolved.logger?.child({component: "classify"});
    await assertOutputPath(resolved.outputPath, "file", "--output");
    await assertOutputPath(predictionsPath, "file", "--predictions-output");

    await using engine = await ExtractionEngine.load(resolved.engine);
    const total = await validateInput(resolved, (prepared) => checkClassifyPrompts(engine, settings, prepared));

    await ensureOutputDirectory(dirname(resolve(resolved.outputPath)), "--output");
    await ensureOutputDirectory(dirname(resolve(predictionsPath)), "--predictions-output");
    const limits = {attributes: maxOutputLineBytes(resolved.maxLineBytes, resolved.prompt), predictions: maxPredictionLineBytes(resolved.maxLineBytes, labelSet)};
    const resumePoint = resolved.overwrite ? {completeLines: 0, repairedBytes: 0} : await reconcileOutputs(resolved, predictionsPath, labelSet, limits);
    if (resumePoint.completeLines > 0 || resumePoint.repairedBytes > 0)
        log?.info({resumed: resumePoint.completeLines, total, repairedBytes: resumePoint.repairedBytes},
            `resuming: ${resumePoint.completeLines} of ${total} documents already in ${resolved.outputPath} and ${predictionsPath}` +
            (resumePoint.repairedBytes > 0 ? ` (cut ${resumePoint.repairedBytes} bytes of torn or unmatched last lines)` : ""));
    hooks.onStart?.({total, resumed: resumePoint.completeLines, repairedBytes: resumePoint.repairedBytes});

    const openOutput = (path: string, flag: string) => open(path, resolved.overwrite ? "w" : "a").catch((error: unknown) => {
        throw outputPathError(error, path, flag);
    });
    const predictionsFile = await openOutput(predictionsPath, "--predictions-output");
    const started = performance.now();
    let documents = 0;
    let tokens = 0;
    let truncatedDocuments = 0;
    try {
        const attributesFile = await openOutput(resolved.outputPath, "--output");
        try {
            const predictions = new DurableLineWriter(predictionsFile);
            const attributes = new DurableLineWriter(attributesFile);
            const inFlight: Promise<{prediction: string; attributes: string; tokens: number; truncated: boolean}>[] = [];
            const flushOne = async () => {
                const done = await (inFlight.shift() as Promise<{prediction: string; attributes: string; tokens: number; truncated: boolean}>);
                // predictions first: see the function's comment
                await predictions.write(done.prediction);
                await attributes.write(done.attributes);
                documents++;
                tokens += done.tokens;
                if (done.truncated) truncatedDocuments++;
                hooks.onProgress?.({done: resumePoint.completeLines + documents, total, tokens, elapsedMs: performance.now() - started});
            };
            for await (const prepared of readDataset(resolved.inputPath, resolved.prompt, undefined, {maxLineBytes: resolved.maxLineBytes})) {
                if (prepared.index < resumePoint.completeLines) continue;
                if (hooks.signal?.aborted) break;
                const line = classifyDocument(engine, settings, prepared).then((classified) => ({
                    prediction: formatPredictionLine(prepared.doc.id, classified.result, labelSet),
                    attributes: formatOutputLine(prepared, classified.result.attributes, resolved.prompt),
                    tokens: classified.tokens,
                    truncated: classified.truncated
                }));
                line.catch(() => undefined); // awaited in order by flushOne; avoid an unhandled rejection meanwhile
                inFlight.push(line);
                // as in extract: twice the contexts in flight, so no context waits for an older neighbour
                if (inFlight.length >= 2 * engine.options.contexts) await flushOne();
            }
            while (inFlight.length > 0) await flushOne();
            await predictions.sync();
            await attributes.sync();
        } finally {
            await attributesFile.close();
        }
    } finally {
        await predictionsFile.close();
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
        // classify alternates stage-1 scoring with the re-ask on each context: its re-asks are evaluated in full
        prefixReuse: engine.prefixReuseCounts,
        predictionsPath
    };
}

/**
 * Checks both existing outputs against this input and labels (OUTPUT_MISMATCH otherwise), cuts
 * torn last lines, then cuts the longer file back to the shorter: the documents in both are done.
 */
async function reconcileOutputs(resolved: ResolvedExtractOptions, predictionsPath: string, labelSet: LabelSet, limits: {attributes: number; predictions: number}) {
    const documents = () => readDataset(resolved.inputPath, resolved.prompt, undefined, {maxLineBytes: resolved.maxLineBytes});
    const attributeDocuments = documents();
    const attributes = await findResumePoint(resolved.outputPath, async (_index, written) => {
        const next = await attributeDocuments.next();
        const values = Array.isArray(written["attributes"]) ? written["attributes"] as number[] : [];
        return next.done ? undefined : {id: next.value.doc.id, line: formatOutputLine(next.value, values, resolved.prompt)};
    }, {outputFile: resolved.outputPath, inputFile: resolved.inputPath}, limits.attributes);
    const predictionDocuments = documents();
    const predictions = await findResumePoint(predictionsPath, async (_index, _written, text) => {
        const next = await predictionDocuments.next();
        if (next.done) return undefined;
        const parsed = parsePredictionLine(text, labelSet);
        // a line for other labels (or none) can never be formatted back to itself: a mismatch
        return {id: next.value.doc.id, line: parsed === undefined ? "" : formatPredictionLine(next.value.doc.id, parsed.result, labelSet)};
    }, {outputFile: predictionsPath, inputFile: resolved.inputPath}, limits.predictions);
    await Promise.all([attributeDocuments.return(undefined), predictionDocuments.return(undefined)]);
    const completeLines = Math.min(attributes.completeLines, predictions.completeLines);
    const cut = await keepFirstLines(resolved.outputPath, completeLines, limits.attributes) + await keepFirstLines(predictionsPath, completeLines, limits.predictions);
    return {completeLines, repairedBytes: attributes.repairedBytes + predictions.repairedBytes + cut};
}

/** Longest predictions line an input read with `maxLineBytes` can give: its id, the label names once, a probability per label. */
function maxPredictionLineBytes(maxLineBytes: number, labelSet: LabelSet): number {
    return maxLineBytes + Buffer.byteLength(JSON.stringify(labelSet.labels)) + 48 * labelSet.labels.length + 4096;
}

/** Every file of the job is a different file (by identity: a link to the input would be truncated as "the output"). */
async function assertDistinctFiles(files: readonly {path: string; flag: string}[]): Promise<void> {
    for (let i = 0; i < files.length; i++) {
        for (let j = i + 1; j < files.length; j++) {
            const a = files[i] as {path: string; flag: string};
            const b = files[j] as {path: string; flag: string};
            if (resolve(a.path) === resolve(b.path) || await isSameFile(a.path, b.path))
                throw new OrchardError("INVALID_ARGUMENT", `${b.flag} ${b.path} is the ${a.flag} file ${a.path} (or a link to it): choose another path`);
        }
    }
}
