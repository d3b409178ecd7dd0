import {OrchardError, runTaskOf, taskKind, toFailureCode, type DocumentResult, type ShardDocument, type ShardJob, type ShardResult} from "@orchard/shared";
import {setMaxListeners} from "node:events";
import PQueue from "p-queue";
import {DocumentVerdict} from "./document-verdict.ts";
import type {ShardEngine} from "./shard-engine.ts";
import {taskHandler} from "./task-handlers.ts";

/** How processing a shard ended. */
export type ShardOutcome =
    | {readonly kind: "done"; readonly result: ShardResult}
    /** Stopped between documents because the worker is shutting down: the shard goes back to the queue. */
    | {readonly kind: "aborted"; readonly documentsDone: number};

/**
 * Computes the results of a shard's documents for the job's task kind (the re-ask's 32 attributes
 * when the job names none): each prompt is built by the kind's handler (task-handlers.ts) and checked
 * against the run's context size, then
 * evaluated on `options.scheduler` (or up to `engine.contexts` at a time). An error whose code is one of the
 * handler's `verdictCodes` (a prompt too long for the run without --truncate; a generation cut by
 * --max-tokens) is that document's verdict, not a failure of the shard: retrying would give it again. Engine
 * errors throw (the queue retries the shard). Results come back in document order.
 */
export async function processShard(job: ShardJob, engine: ShardEngine, options: {worker: string; signal?: AbortSignal; scheduler?: PQueue}): Promise<ShardOutcome> {
    const started = performance.now();
    const outcomes: (DocumentResult | undefined)[] = new Array(job.documents.length);
    const prompts: {index: number; tokens: number[]}[] = [];
    let tokens = 0;
    const task = runTaskOf(job);
    const handler = taskHandler(task.kind);
    const kind = taskKind(task.kind);
    const reserved = handler.reservedTokens?.(job) ?? 0;
    // a handler's declared verdict codes: that document's outcome, not the shard's failure
    const verdictOf = (error: unknown) => {
        const code = error instanceof DocumentVerdict || error instanceof OrchardError ? error.code : undefined;
        return code !== undefined && (handler.verdictCodes as readonly string[]).includes(code) ? {code: toFailureCode(code), message: (error as Error).message} : undefined;
    };
    await engine.prepareTask(task.kind);
    for (const [index, document] of job.documents.entries()) {
        try {
            const prompt = handler.prompt(document, index, job, engine);
            if (prompt.length + reserved > engine.contextSize)
                throw new OrchardError("ENGINE_FAILED",
                    `this worker's --context-size ${engine.contextSize} is smaller than the run's ${job.contextSize}: start workers with --context-size ${job.contextSize} or more`,
                    {retryable: true});
            prompts.push({index, tokens: prompt});
            if (handler.countedTokens === undefined) tokens += prompt.length;
        } catch (error) {
            const verdict = verdictOf(error);
            if (verdict === undefined) throw error;
            outcomes[index] = {id: document.id, error: verdict};
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
        const document = job.documents[prompt.index] as ShardDocument;
        const id = document.id;
        let result: Record<string, unknown>;
        try {
            result = await handler.compute(engine, prompt.tokens, id, job, prompt.index, document);
        } catch (error) {
            const verdict = verdictOf(error);
            if (verdict === undefined) throw error;
            outcomes[prompt.index] = {id, error: verdict};
            done++;
            return;
        }
        // what the coordinator will check: a result it would reject fails the attempt here, where BullMQ retries it
        const checked = kind.resultSchema.safeParse(result);
        if (!checked.success) throw new OrchardError("ENGINE_FAILED", `the engine's result for document "${id}" is invalid: ${checked.error.message}`, {retryable: true});
        outcomes[prompt.index] = {id, ...checked.data};
        if (handler.countedTokens !== undefined) tokens += handler.countedTokens(prompt.tokens.length, checked.data);
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
            v: 1, runId: job.runId, shard: job.shard, worker: options.worker, machine: engine.machine,
            documents: outcomes.map((outcome, i) => outcome ?? {id: (job.documents[i] as {id: string}).id, error: {code: "INTERNAL", message: "no outcome"}}),
            tokens, elapsedMs: performance.now() - (firstStarted ?? started)
        }
    };
}
