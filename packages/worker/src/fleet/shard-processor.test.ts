import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {DEFAULT_GENERATION_SAMPLING, DEFAULT_LABEL_PROMPT, OrchardError, type GenerateSettings, type ShardJob} from "@orchard/shared";
import PQueue from "p-queue";
import type {GeneratedDocument, GenerationRequest} from "../generate/document-generator.ts";
import {processShard} from "./shard-processor.ts";
import type {ShardEngine} from "./shard-engine.ts";
import {SimulatedShardEngine, simulatedAttributes} from "./simulated-shard-engine.ts";

function job(texts: string[], overrides: Partial<ShardJob> = {}): ShardJob {
    return {
        v: 1, runId: "r-1", shard: 3, input: 0, localShard: 3, file: "in.jsonl", contextSize: 64, truncate: false, trailingInstruction: "Q?",
        documents: texts.map((text, i) => ({id: `d${i}`, line: i + 10, promptText: "P:", documentText: text})),
        ...overrides
    };
}

/** Completes documents in reverse order of submission, to check results still come back in document order. */
class ReorderingEngine implements ShardEngine {
    public readonly kind = "simulated";
    public readonly contexts = 3;
    public readonly contextSize = 4096;
    public readonly started: string[] = [];
    readonly #inner = new SimulatedShardEngine({tokensPerSecond: 1e9});
    public readonly numerics = undefined;
    public readonly machine = this.#inner.machine;

    public tokenizePrompt(text: string): number[] {
        return this.#inner.tokenizePrompt(text);
    }

    public async extract(tokens: readonly number[], documentId: string): Promise<number[]> {
        this.started.push(documentId);
        await new Promise((resolve) => setTimeout(resolve, 30 - 10 * this.started.length));
        if (documentId === "boom") throw new OrchardError("ENGINE_FAILED", "boom", {retryable: true});
        return simulatedAttributes(tokens);
    }

    public prepareTask(): Promise<void> {
        return this.#inner.prepareTask();
    }

    public generationPromptTokens(request: GenerationRequest): number[] {
        return this.#inner.generationPromptTokens(request);
    }

    public generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        return this.#inner.generate(request, settings);
    }

    public async close(): Promise<void> {}

    // a re-ask test: a classify task's stage 1 never runs here
    public readonly eosToken = 2;
    public async scoreContinuations(): Promise<number[]> {
        throw new Error("not used by the re-ask");
    }
}

describe("processShard", () => {
    it("returns attributes in document order whatever order evaluations finish in", async () => {
        const engine = new ReorderingEngine();
        const outcome = await processShard(job(["a", "b", "c", "d"]), engine, {worker: "w"});
        assert.equal(outcome.kind, "done");
        if (outcome.kind !== "done") return;
        assert.deepEqual(outcome.result.documents.map((doc) => doc.id), ["d0", "d1", "d2", "d3"]);
        assert.deepEqual(outcome.result.documents[2], {id: "d2", attributes: simulatedAttributes(engine.tokenizePrompt("[INST] How can I help you?\nP: c Q? Yes or No? [/INST]"))});
        assert.equal(outcome.result.shard, 3);
    });

    it("refuses a document whose prompt exceeds the run's context, alone: a verdict, not a shard failure", async () => {
        const engine = new SimulatedShardEngine({tokensPerSecond: 1e9});
        const outcome = await processShard(job(["short", "long ".repeat(100)]), engine, {worker: "w"});
        assert.equal(outcome.kind, "done");
        if (outcome.kind !== "done") return;
        assert.ok("attributes" in (outcome.result.documents[0] ?? {}));
        const refused = outcome.result.documents[1];
        assert.ok(refused?.error !== undefined);
        assert.equal(refused.error.code, "DOCUMENT_TOO_LONG");
        assert.match(refused.error.message, /^in\.jsonl:11: the prompt for document "d1" is \d+ tokens, longer than the context size of 64/);
        // with truncate, the same document is cut to fit instead
        const truncated = await processShard(job(["long ".repeat(100)], {truncate: true}), engine, {worker: "w"});
        assert.ok(truncated.kind === "done" && "attributes" in (truncated.result.documents[0] ?? {}));
    });

    it("throws what the engine throws (the queue retries the shard)", async () => {
        const engine = new ReorderingEngine();
        const shard = job(["a", "b"]);
        const poisoned = {...shard, documents: [shard.documents[0] as ShardJob["documents"][number], {...(shard.documents[1] as ShardJob["documents"][number]), id: "boom"}]};
        await assert.rejects(processShard(poisoned, engine, {worker: "w"}), /boom/);
    });

    it("stops between documents when aborted (a stopping worker gives the shard back)", async () => {
        const controller = new AbortController();
        const engine = new SimulatedShardEngine({tokensPerSecond: 200});
        const pending = processShard(job(["a", "b", "c", "d"]), engine, {worker: "w", signal: controller.signal});
        setTimeout(() => controller.abort(), 20);
        const outcome = await pending;
        assert.equal(outcome.kind, "aborted");
    });

    it("drops a failing shard's documents not started yet instead of computing them", async () => {
        // documents take 20 ms on 2 contexts; the poisoned second one fails at once
        const engine = new TimedEngine(2, "boom");
        const shard = job(Array.from({length: 12}, (_, i) => `t${i}`));
        const poisoned = {...shard, documents: shard.documents.map((doc, i) => (i === 1 ? {...doc, id: "boom"} : doc))};
        await assert.rejects(processShard(poisoned, engine, {worker: "w"}), /boom/);
        const started = engine.events.filter((event) => event.startsWith("start")).length;
        // d0 and boom, and at most the one the freed context took before the shard was stopped
        assert.ok(started <= 3, `${started} of 12 documents were started: ${engine.events.join(", ")}`);
    });

    it("shares one scheduler between the shards a worker holds: contexts stay busy across them, the older shard first", async () => {
        // documents of uneven length on 2 contexts: a context that is done takes the next document at once
        const engine = new TimedEngine(2);
        const scheduler = new PQueue({concurrency: engine.contexts});
        const next = job(["d", "e"], {shard: 2});
        const second = {...next, documents: next.documents.map((doc) => ({...doc, id: `s2-${doc.id}`}))};
        const [one, two] = await Promise.all([
            processShard(job(["x".repeat(400), "a", "b", "c"], {shard: 1, contextSize: 4096}), engine, {worker: "w", scheduler}),
            processShard(second, engine, {worker: "w", scheduler})
        ]);
        assert.ok(one.kind === "done" && two.kind === "done");
        // the long document runs on one context while the other takes a, b, c and then the next shard's
        // documents, before the first shard is over
        assert.deepEqual(engine.events.filter((event) => event.startsWith("start")), ["start d0", "start d1", "start d2", "start d3", "start s2-d0", "start s2-d1"]);
        assert.ok(engine.events.indexOf("start s2-d0") < engine.events.indexOf("end d0"), engine.events.join(", "));
        assert.equal(engine.maxBusy, 2);
    });

    it("fails the attempt (retryable) when the engine returns a value the coordinator would reject: NaN, out of [-2, 2], not a float32, too few", async () => {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2.5, -3, 0.1, "short"] as const) {
            const engine = new SimulatedShardEngine({tokensPerSecond: 1e9});
            const broken: ShardEngine = Object.assign(Object.create(engine) as ShardEngine, {
                extract: async (tokens: readonly number[]) => {
                    const values = simulatedAttributes(tokens);
                    return bad === "short" ? values.slice(1) : [bad, ...values.slice(1)];
                }
            });
            await assert.rejects(processShard(job(["a", "b"]), broken, {worker: "w"}), (error: unknown) => {
                assert.ok(error instanceof OrchardError, String(error));
                assert.deepEqual([error.code, error.retryable], ["ENGINE_FAILED", true]);
                assert.match(error.message, /document "d0"/);
                return true;
            }, String(bad));
        }
    });
});

/** Takes 2 ms per prompt token (the poisoned document fails at once); records when each document starts and ends, and how many ran at once. */
class TimedEngine implements ShardEngine {
    public readonly kind = "simulated";
    public readonly contextSize = 4096;
    public readonly events: string[] = [];
    public maxBusy = 0;
    #busy = 0;
    readonly #inner = new SimulatedShardEngine({tokensPerSecond: 1e9});
    public readonly numerics = undefined;
    public readonly machine = this.#inner.machine;

    public constructor(public readonly contexts: number, private readonly poisonId?: string) {}

    public tokenizePrompt(text: string): number[] {
        return this.#inner.tokenizePrompt(text);
    }

    public async extract(tokens: readonly number[], documentId: string): Promise<number[]> {
        this.#busy++;
        this.maxBusy = Math.max(this.maxBusy, this.#busy);
        this.events.push(`start ${documentId}`);
        if (documentId === this.poisonId) {
            this.#busy--;
            throw new OrchardError("ENGINE_FAILED", "boom", {retryable: true});
        }
        await new Promise((resolve) => setTimeout(resolve, 2 * tokens.length));
        this.events.push(`end ${documentId}`);
        this.#busy--;
        return simulatedAttributes(tokens);
    }

    public prepareTask(): Promise<void> {
        return this.#inner.prepareTask();
    }

    public generationPromptTokens(request: GenerationRequest): number[] {
        return this.#inner.generationPromptTokens(request);
    }

    public generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        return this.#inner.generate(request, settings);
    }

    public async close(): Promise<void> {}

    // a re-ask test: a classify task's stage 1 never runs here
    public readonly eosToken = 2;
    public async scoreContinuations(): Promise<number[]> {
        throw new Error("not used by the re-ask");
    }
}

/** The simulated engine, except that a completion listed in `verdicts` comes back as that failure (as DocumentGenerator reports a truncated JSON value). */
class VerdictEngine extends SimulatedShardEngine {
    public constructor(private readonly verdicts: Readonly<Record<string, "GENERATION_TRUNCATED" | "JSON_INVALID">>) {
        super({tokensPerSecond: 1e9});
    }

    public override async generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        const code = this.verdicts[request.id];
        if (code === undefined) return super.generate(request, settings);
        return {ok: false, code, reason: "cut", tokens: {prompt: 1, completion: settings.sampling.maxTokens}};
    }
}

describe("processShard, generate task", () => {
    const settings: GenerateSettings = {
        message: {kind: "field", field: "q"}, system: "", sampling: {...DEFAULT_GENERATION_SAMPLING, maxTokens: 8}, output: {format: "generated"}
    };

    it("a completion the handler declares a verdict (truncated, invalid JSON) is that document's outcome; the others get results", async () => {
        const engine = new VerdictEngine({d1: "GENERATION_TRUNCATED", d3: "JSON_INVALID"});
        const outcome = await processShard(job(["a", "b", "c", "d"], {task: {kind: "generate", settings}}), engine, {worker: "w"});
        assert.equal(outcome.kind, "done");
        if (outcome.kind !== "done") return;
        assert.deepEqual(outcome.result.documents.map((doc) => doc.error?.code ?? "ok"), ["ok", "GENERATION_TRUNCATED", "ok", "JSON_INVALID"]);
        assert.equal(typeof (outcome.result.documents[0] as Record<string, unknown> | undefined)?.["completion"], "string");
        // a generate shard counts the tokens it generated (the fleet's generated tokens/s), not its prompts'
        const generated = outcome.result.documents.flatMap((doc) => (doc.error === undefined ? [(doc as unknown as {tokens: {completion: number}}).tokens.completion] : []));
        assert.equal(outcome.result.tokens, generated.reduce((sum, n) => sum + n, 0));
    });

    it("a prompt whose --max-tokens does not fit the run's context is DOCUMENT_TOO_LONG for that document", async () => {
        const engine = new VerdictEngine({});
        const outcome = await processShard(job(["a", "long ".repeat(40)], {task: {kind: "generate", settings: {...settings, sampling: {...settings.sampling, maxTokens: 40}}}}), engine, {worker: "w"});
        assert.equal(outcome.kind, "done");
        if (outcome.kind !== "done") return;
        assert.deepEqual(outcome.result.documents.map((doc) => doc.error?.code ?? "ok"), ["ok", "DOCUMENT_TOO_LONG"]);
    });
});

describe("processShard, classify task", () => {
    const settings = {labelsFile: "labels.jsonl", labels: [{label: 0, name: "sad"}, {label: 1, name: "happy"}], labelPrompt: DEFAULT_LABEL_PROMPT};

    it("a document whose prompts do not fit the run's context is DOCUMENT_TOO_LONG for that document (the classify handler's verdict), the others get both stages' results", async () => {
        const engine = new SimulatedShardEngine({tokensPerSecond: 1e9});
        const classifyJob = job(["short", "long ".repeat(400)], {contextSize: 512, trailingInstruction: "Is it {label_name}?", task: {kind: "classify", settings}});
        const outcome = await processShard(classifyJob, engine, {worker: "w"});
        assert.equal(outcome.kind, "done");
        if (outcome.kind !== "done") return;
        assert.deepEqual(outcome.result.documents.map((doc) => doc.error?.code ?? "ok"), ["ok", "DOCUMENT_TOO_LONG"]);
        const classified = outcome.result.documents[0] as Record<string, unknown> | undefined;
        assert.ok(Array.isArray(classified?.["attributes"]));
        assert.ok(["sad", "happy"].includes(classified?.["predictedName"] as string));
    });
});
