import {buildReaskPrefix, computeAttributes, OrchardError, type Logger, type MachineFacts} from "@orchard/shared";
import {getLlama, LlamaLogLevel, type Llama, type LlamaModel} from "node-llama-cpp";
import {assertModelFile} from "./assert-model-file.ts";
import {probeMachineFacts} from "./machine-facts-probe.ts";
import type {DocumentEvaluator} from "./document-evaluator.ts";
import {resolveExtractionEngineOptions, type EngineRoute, type ExtractionEngineOptions, type ResolvedExtractionEngineOptions} from "./extraction-engine-options.ts";
import {OnePassEvaluator} from "./one-pass-evaluator.ts";
import {ThreePassEvaluator} from "./three-pass-evaluator.ts";

/** llama.cpp's mean pooling (LLAMA_POOLING_TYPE_MEAN). */
const POOLING_TYPE_MEAN = 1;
/** Prompt texts whose prefix tokens are remembered (a --use-json-prompt run may have one per document). */
const PREFIX_TOKEN_CACHE_SIZE = 256;

/** How the documents an engine evaluated were computed (see ExtractionEngineOptions.prefixReuse). */
export interface PrefixReuseCounts {
    /** Documents whose shared prompt prefix came from the context's cache (only their suffix evaluated). */
    readonly reused: number;
    /** Documents evaluated in full: reuse off, the three-pass route, no prompt text given, or the token-boundary guard. */
    readonly full: number;
    /** Of `full`, those the token-boundary guard sent to full evaluation (the document's first characters merged with the prefix). */
    readonly guarded: number;
}

/**
 * Turns re-ask prompts into the 32 attributes with a Mixtral GGUF. Holds the model and a pool of
 * contexts: up to `contexts` documents are evaluated at once, so the per-position read-out of one
 * overlaps the forward pass of another. Create with `ExtractionEngine.load`, then `close()`.
 */
export class ExtractionEngine {
    public readonly options: ResolvedExtractionEngineOptions;
    /** The route actually in use ("one-pass" or "three-pass"). */
    public readonly route: Exclude<EngineRoute, "auto">;
    /** The backend node-llama-cpp picked: "metal", "cuda", "vulkan" or false (CPU). */
    public readonly gpu: string | false;
    /** Where it computes (host, chip, backend, node-llama-cpp and llama.cpp versions): each result's provenance. */
    public readonly machine: MachineFacts;
    readonly #llama: Llama;
    readonly #models: readonly LlamaModel[];
    readonly #tokenizerModel: LlamaModel;
    readonly #idle: DocumentEvaluator[];
    readonly #all: readonly DocumentEvaluator[];
    readonly #waiters: ((evaluator: DocumentEvaluator) => void)[] = [];
    /** Prompt text -> its prefix tokens (BOS first). */
    readonly #prefixTokens = new Map<string, readonly number[]>();
    #counts = {reused: 0, full: 0, guarded: 0};
    #closed = false;

    private constructor(init: {
        options: ResolvedExtractionEngineOptions; route: Exclude<EngineRoute, "auto">; llama: Llama;
        models: LlamaModel[]; evaluators: DocumentEvaluator[]; machine: MachineFacts;
    }) {
        this.machine = init.machine;
        this.options = init.options;
        this.route = init.route;
        this.#llama = init.llama;
        this.gpu = init.llama.gpu;
        this.#models = init.models;
        this.#tokenizerModel = init.models[0] as LlamaModel;
        this.#all = init.evaluators;
        this.#idle = [...init.evaluators];
    }

    public static async load(options: ExtractionEngineOptions): Promise<ExtractionEngine> {
        const log = options.logger?.child({component: "engine"});
        await assertModelFile(options.modelPath);
        const llama = await getLlama({
            gpu: options.gpu ?? "auto",
            build: "never",
            logLevel: LlamaLogLevel.error,
            logger: (level, message) => log?.debug({llamaLevel: level}, message.trimEnd())
        });
        const resolved = resolveExtractionEngineOptions(options, {onGpu: llama.gpu !== false});
        const models: LlamaModel[] = [];
        const evaluators: DocumentEvaluator[] = [];
        try {
            const meanPooled = await loadModel(llama, resolved.modelPath, true, resolved.flashAttention);
            models.push(meanPooled);
            const contextOptions = {contextSize: resolved.contextSize, batchSize: resolved.batchSize, threads: resolved.threads, flashAttention: resolved.flashAttention};
            let route: Exclude<EngineRoute, "auto"> = resolved.route === "three-pass" ? "three-pass" : "one-pass";
            if (route === "one-pass") {
                try {
                    for (let i = 0; i < resolved.contexts; i++) evaluators.push(await OnePassEvaluator.create(meanPooled, contextOptions));
                } catch (error) {
                    if (resolved.route === "one-pass" || !(error instanceof OrchardError && error.code === "ENGINE_UNSUPPORTED")) throw error;
                    log?.warn({err: error}, "one-pass route unavailable in this node-llama-cpp; falling back to the public three-pass route (about 3x slower)");
                    for (const evaluator of evaluators.splice(0)) await evaluator.close();
                    route = "three-pass";
                }
            }
            if (route === "three-pass") {
                const plain = await loadModel(llama, resolved.modelPath, false, resolved.flashAttention);
                models.push(plain);
                for (let i = 0; i < resolved.contexts; i++) evaluators.push(await ThreePassEvaluator.create(plain, meanPooled, contextOptions));
            }
            log?.info({route, gpu: llama.gpu, contexts: resolved.contexts, threads: resolved.threads, contextSize: resolved.contextSize,
                prefixReuse: route === "one-pass" ? resolved.prefixReuse : "off (three-pass route)"}, "extraction engine ready");
            return new ExtractionEngine({options: resolved, route, llama, models, evaluators, machine: await probeMachineFacts(llama)});
        } catch (error) {
            for (const evaluator of evaluators) await evaluator.close().catch(() => undefined);
            for (const model of models) await model.dispose().catch(() => undefined);
            await llama.dispose().catch(() => undefined);
            if (error instanceof OrchardError) throw error;
            throw new OrchardError("MODEL_INVALID", `${resolved.modelPath}: llama.cpp could not load the model (${(error as Error).message})`, {cause: error});
        }
    }

    /** Hidden-state size of the model (n_embd). */
    public get embeddingSize(): number {
        return this.#tokenizerModel.embeddingVectorSize;
    }

    /** BOS followed by the tokens of `text`, exactly what `extract` evaluates. */
    public tokenizePrompt(text: string): number[] {
        const bos = this.#tokenizerModel.tokens.bos;
        if (bos == null) throw new OrchardError("MODEL_INVALID", `${this.options.modelPath}: the model has no BOS token`);
        return [bos, ...this.#tokenizerModel.tokenize(text)];
    }

    /**
     * The 32 attributes of one tokenized prompt (BOS first). Concurrent calls share the context pool.
     * `promptText`: the re-ask prompt text the tokens were built with (buildReaskPrompt), which lets
     * the one-pass route reuse the prompt's prefix (see ExtractionEngineOptions.prefixReuse); without
     * it the prompt is evaluated in full.
     */
    public async extract(tokens: readonly number[], promptText?: string): Promise<number[]> {
        return (await this.evaluate(tokens, promptText)).attributes;
    }

    /** Documents evaluated so far with and without prefix reuse. */
    public get prefixReuseCounts(): PrefixReuseCounts {
        return {...this.#counts};
    }

    /**
     * The 32 attributes of one tokenized prompt (BOS first) and the raw Yes/No logits at its last
     * position, from the same forward pass: what the playground shows, with the attributes `extract`
     * writes (the attributes hold the logits only scaled and clipped).
     */
    public async evaluate(tokens: readonly number[], promptText?: string): Promise<{attributes: number[]; yesLogit: number; noLogit: number}> {
        if (tokens.length > this.options.contextSize)
            throw new OrchardError("DOCUMENT_TOO_LONG", `prompt of ${tokens.length} tokens exceeds the context size of ${this.options.contextSize}`);
        const prefixLength = this.#reusablePrefixLength(tokens, promptText);
        const evaluator = await this.#acquire();
        try {
            const inputs = await evaluator.evaluate(tokens, typeof prefixLength === "number" ? prefixLength : undefined);
            if (typeof prefixLength === "number") this.#counts.reused++;
            else this.#counts.full++;
            if (prefixLength === "guarded") this.#counts.guarded++;
            return {attributes: computeAttributes(inputs), yesLogit: inputs.yesLogit, noLogit: inputs.noLogit};
        } catch (error) {
            if (error instanceof OrchardError) throw error;
            throw new OrchardError("ENGINE_FAILED", `evaluation failed: ${(error as Error).message}`, {cause: error, retryable: true});
        } finally {
            this.#release(evaluator);
        }
    }

    /**
     * Log-probability of each continuation (token ids) after `prefix` (BOS first), by teacher
     * forcing on one of the pool's contexts: what a classify task's stage 1 scores label names
     * with. The attributes of a later `extract` are unaffected (it clears the context first).
     */
    public async scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        const longest = prefix.length + Math.max(0, ...continuations.map((continuation) => continuation.length));
        if (longest > this.options.contextSize)
            throw new OrchardError("DOCUMENT_TOO_LONG", `prompt and answer of ${longest} tokens exceed the context size of ${this.options.contextSize}`);
        const evaluator = await this.#acquire();
        try {
            return await evaluator.scoreContinuations(prefix, continuations);
        } catch (error) {
            if (error instanceof OrchardError) throw error;
            throw new OrchardError("ENGINE_FAILED", `evaluation failed: ${(error as Error).message}`, {cause: error, retryable: true});
        } finally {
            this.#release(evaluator);
        }
    }

    /** The model's end-of-sequence token (what ends an answer in Mixtral-Instruct's chat format). */
    public get eosToken(): number {
        const eos = this.#tokenizerModel.tokens.eos;
        if (eos == null) throw new OrchardError("MODEL_INVALID", `${this.options.modelPath}: the model has no EOS token`);
        return eos;
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        for (const evaluator of this.#all) await evaluator.close();
        for (const model of this.#models) await model.dispose();
        // each getLlama() makes its own Llama (with a process "beforeExit" listener): release it
        await this.#llama.dispose();
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    /**
     * The length of the prompt prefix of `promptText` when `tokens` may reuse it; "guarded" when
     * the guard below refuses; undefined when reuse does not apply.
     * The token-boundary guard: SentencePiece may merge a document's first characters with the
     * prefix's last piece, so reuse only when `tokens` starts with exactly the prefix's own tokens.
     */
    #reusablePrefixLength(tokens: readonly number[], promptText: string | undefined): number | "guarded" | undefined {
        if (promptText === undefined || this.route !== "one-pass" || this.options.prefixReuse === "off") return undefined;
        let prefix = this.#prefixTokens.get(promptText);
        if (prefix === undefined) {
            if (this.#prefixTokens.size >= PREFIX_TOKEN_CACHE_SIZE) this.#prefixTokens.clear();
            prefix = this.tokenizePrompt(buildReaskPrefix(promptText));
            this.#prefixTokens.set(promptText, prefix);
        }
        return prefix.length < tokens.length && prefix.every((token, i) => token === tokens[i]) ? prefix.length : "guarded";
    }

    async #acquire(): Promise<DocumentEvaluator> {
        if (this.#closed) throw new OrchardError("ENGINE_FAILED", "the extraction engine is closed");
        const idle = this.#idle.pop();
        if (idle != null) return idle;
        return new Promise((resolve) => this.#waiters.push(resolve));
    }

    #release(evaluator: DocumentEvaluator): void {
        const waiter = this.#waiters.shift();
        if (waiter != null) waiter(evaluator);
        else this.#idle.push(evaluator);
    }
}

async function loadModel(llama: Llama, modelPath: string, meanPooled: boolean, flashAttention: boolean): Promise<LlamaModel> {
    return llama.loadModel({
        modelPath,
        // embedding contexts take their flash-attention setting from the model's default
        defaultContextFlashAttention: flashAttention,
        ...(meanPooled ? {metadataOverrides: {llama: {pooling_type: POOLING_TYPE_MEAN}}} : {})
    } as Parameters<Llama["loadModel"]>[0]);
}
