import type {PreparedDocument, RunTask, ShardResult, SkippedDocument, TaskKind} from "@orchard/shared";
import type {RejectedResults} from "./rejected-results.ts";
import type {RunLayout} from "./run-layout.ts";
import type {RunStore, StoredResult} from "./run-store.ts";

/** A shard's result the coordinator accepted, with its documents re-read from the input. */
export interface AnsweredShard {
    readonly shard: number;
    readonly result: ShardResult;
    readonly documents: readonly PreparedDocument[];
}

/**
 * The results workers wrote, as the coordinator accepts them: valid for the run's task kind
 * (RunStore.results) and answering exactly the shard's documents, re-read from its input. Anything
 * else is dropped (the shard then looks unanswered and runs again) and counted as a failed attempt
 * (RejectedResults). Also turns an accepted result into output lines. The merge and the retry
 * patching both read results through it.
 */
export class ShardResults {
    readonly #store: RunStore;
    readonly #layout: RunLayout;
    readonly #task: RunTask;
    readonly #kind: TaskKind;
    readonly #rejected: RejectedResults;

    public constructor(init: {store: RunStore; layout: RunLayout; task: RunTask; kind: TaskKind; rejected: RejectedResults}) {
        this.#store = init.store;
        this.#layout = init.layout;
        this.#task = init.task;
        this.#kind = init.kind;
        this.#rejected = init.rejected;
    }

    /** The accepted results of `shards`, from the first on, up to the first that is missing or rejected. */
    public async answeredFrom(shards: readonly number[]): Promise<AnsweredShard[]> {
        const runId = this.#layout.spec.runId;
        const results = await this.#store.results(runId, shards, this.#kind, (shard, error) => this.#rejected.reject(shard, error.message));
        const answered: AnsweredShard[] = [];
        for (const [i, stored] of results.entries()) {
            if (stored === undefined) break;
            const shard = shards[i] as number;
            const documents = await this.#documentsAnswered(shard, stored);
            if (documents === undefined) break;
            answered.push({shard, result: stored.result, documents});
        }
        return answered;
    }

    /** The waiting result of `shard` if it is accepted (otherwise it is dropped and counted). */
    public async accepted(shard: number): Promise<ShardResult | undefined> {
        return (await this.answeredFrom([shard]))[0]?.result;
    }

    /** Output lines of an accepted shard (the input re-read for everything but the result, exactly as `extract` writes them); refused documents go to `skipped`. */
    public linesOf(answered: AnsweredShard, skipped: SkippedDocument[]): string[] {
        return this.outputLinesOf(answered, skipped).lines;
    }

    /** `linesOf`, with the lines of each of the kind's companion outputs (`companions[k]`: one per line of `lines`). */
    public outputLinesOf({shard, result, documents}: AnsweredShard, skipped: SkippedDocument[]): {lines: string[]; companions: string[][]} {
        const input = this.#layout.shard(shard).input;
        const prompt = this.#layout.spec.prompt;
        const outputs = this.#kind.companionOutputs ?? [];
        const lines: string[] = [];
        const companions: string[][] = outputs.map(() => []);
        for (const [i, prepared] of documents.entries()) {
            const outcome = result.documents[i];
            if (outcome === undefined) continue;
            if (outcome.error === undefined) {
                lines.push(this.#kind.formatOutputLine(prepared, outcome, prompt, this.#task.settings));
                for (const [k, output] of outputs.entries()) (companions[k] as string[]).push(output.formatLine(prepared, outcome, prompt, this.#task.settings));
            } else
                skipped.push({id: prepared.doc.id, input, index: prepared.index, line: prepared.lineNumber, code: outcome.error.code, message: outcome.error.message});
        }
        return {lines, companions};
    }

    /** The shard's documents if the result answers exactly them; otherwise the result is dropped, counted, and undefined returned. */
    async #documentsAnswered(shard: number, {result, raw}: StoredResult): Promise<PreparedDocument[] | undefined> {
        const runId = this.#layout.spec.runId;
        const documents = await this.#layout.readDocuments(shard);
        if (result.runId === runId && result.shard === shard && result.documents.length === documents.length &&
            result.documents.every((outcome, i) => outcome.id === documents[i]?.doc.id)) {
            // what the schema cannot see: a result the run's settings refuse (a label that is not one of the run's)
            const refused = this.#refusedResult(result);
            if (refused === undefined) return documents;
            await this.#store.dropResult(runId, shard, raw);
            this.#rejected.reject(shard, `worker "${result.worker}" answered ${refused}`);
            return undefined;
        }
        await this.#store.dropResult(runId, shard, raw);
        this.#rejected.reject(shard, `worker "${result.worker}" answered other documents than the shard's`);
        return undefined;
    }

    /** Why the kind refuses one of the result's documents for the run's settings (document id and reason), or undefined. */
    #refusedResult(result: ShardResult): string | undefined {
        const check = this.#kind.checkResult;
        if (check === undefined) return undefined;
        for (const outcome of result.documents) {
            if (outcome.error !== undefined) continue;
            const reason = check(outcome, this.#task.settings);
            if (reason !== undefined) return `document ${JSON.stringify(outcome.id)} with a result the run refuses: ${reason}`;
        }
        return undefined;
    }
}
