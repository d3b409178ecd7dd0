import {ATTRIBUTE_COUNT, attributeValueSchema, OrchardError, type DocumentResult, type PreparedDocument, type ShardJob, type ShardResult} from "@orchard/shared";
import {setMaxListeners} from "node:events";
import PQueue from "p-queue";
import {tokenizeDocumentPrompt} from "../extract/prompt-tokenizer.ts";
import type {ShardEngine} from "./shard-engine.ts";

/** How processing a shard ended. */
export type ShardOutcome =
    | {readonly kind: "done"; readonly result: ShardResult}
    /** Stopped between documents because the worker is shutting down: the shard goes back to the queue. */
    | {readonly kind: "aborted"; readonly documentsDone: number};

/**
 * Computes the attributes of a shard's documents: each prompt is built (shared's re-ask prompt,
 * through the same tokenizer helper as `extract`) and checked against the run's context size, then
 * evaluated on `options.scheduler` (or up to `engine.contexts` at a time). A prompt too long for the run (without --truncate)
 * is that document's verdict, not a failure of the shard: retrying would refuse it again. Engine
 * errors throw (the queue retries the shard). Results come back in document order.
 */
export async function processShard(job: ShardJob, engine: ShardEngine, options: {worker: string; signal?: AbortSignal; scheduler?: PQueue}): Promise<ShardOutcome> {
    const started = performance.now();
    const outcomes: (DocumentResult | undefined)[] = new Array(job.documents.length);
    const prompts: {index: number; tokens: number[]}[] = [];
    let tokens = 0;
    for (const [index, document] of job.documents.entries()) {
        // the tokenizer helper takes a PreparedDocument; it reads only these fields
        const prepared: PreparedDocument = {index, lineNumber: document.line, doc: {id: document.id, label: 0, document: document.documentText}, documentText: document.documentText, promptText: document.promptText};
        try {
            const prompt = tokenizeDocumentPrompt(prepared, job.trailingInstruction, (text) => engine.tokenizePrompt(text), {contextSize: job.contextSize, truncate: job.truncate, file: job.file});
            if (prompt.tokens.length > engine.contextSize)
                throw new OrchardError("ENGINE_FAILED",
                    `this worker's --context-size ${engine.contextSize} is smaller than the run's ${job.contextSize}: start workers with --context-size ${job.contextSize} or more`,
                    {retryable: true});
            prompts.push({index, tokens: prompt.tokens});
            tokens += prompt.tokens.length;
        } catch (error) {
            if (!(error instanceof OrchardError && error.code === "DOCUMENT_TOO_LONG")) throw error;
            outcomes[index] = {id: document.id, error: {code: "DOCUMENT_TOO_LONG", message: error.message}};
        }
    }

    // documents queue on the worker's scheduler (shared by the shards it holds, oldest shard first),
    // so a context that finishes never waits for a slower neighbour nor for the next shard to arrive
    const scheduler = options.scheduler ?? new PQueue({concurrency: engine.contexts});
    // the worker stopping, or one of this shard's documents failing, drops its documents not started yet
    const stop = new AbortController();
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    // one listener per queued document (p-queue's), not a leak
    setMaxListeners(Math.max(10, prompts.length + 1), signal);
    let done = 0;
    let failure: {error: unknown} | undefined;
    // the shard's own time: from its first document's start (it may wait behind the previous shard)
    let firstStarted: number | undefined;
    const evaluations = prompts.map((prompt) => scheduler.add(async () => {
        firstStarted ??= performance.now();
        const id = (job.documents[prompt.index] as {id: string}).id;
        const attributes = checkedAttributes(await engine.extract(prompt.tokens, id), id);
        outcomes[prompt.index] = {id, attributes};
        done++;
    }, {signal}).catch((error: unknown) => {
        if (signal.aborted && error === signal.reason) return; // dropped before it started
        failure ??= {error};
        stop.abort();
    }));
    await Promise.all(evaluations);
    if (failure !== undefined) throw failure.error;
    if (options.signal?.aborted === true) return {kind: "aborted", documentsDone: done};
    return {
        kind: "done",
        result: {
            v: 1, runId: job.runId, shard: job.shard, worker: options.worker,
            documents: outcomes.map((outcome, i) => outcome ?? {id: (job.documents[i] as {id: string}).id, error: {code: "INTERNAL", message: "no outcome"}}),
            tokens, elapsedMs: performance.now() - (firstStarted ?? started)
        }
    };
}

/**
 * The engine's values if the coordinator will accept them (ATTRIBUTE_COUNT values, each finite, in
 * [-2, 2] and a float32: shardResultSchema). A broken backend's NaN fails the attempt here, where
 * BullMQ retries it on this or another worker, instead of a result the coordinator would reject.
 */
function checkedAttributes(attributes: number[], id: string): number[] {
    const bad = attributes.find((value) => !attributeValueSchema.safeParse(value).success);
    if (attributes.length !== ATTRIBUTE_COUNT || bad !== undefined)
        throw new OrchardError("ENGINE_FAILED", attributes.length !== ATTRIBUTE_COUNT
            ? `the engine returned ${attributes.length} attribute values for document "${id}", not ${ATTRIBUTE_COUNT}`
            : `the engine returned an invalid attribute value for document "${id}": ${bad} (values are finite float32s in [-2, 2])`, {retryable: true});
    return attributes;
}
