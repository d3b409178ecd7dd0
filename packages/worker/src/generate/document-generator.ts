import {OrchardError} from "@orchard/shared";
import {
    LlamaCompletion, resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type LlamaContextSequence, type LlamaJsonSchemaGrammar,
    type LlamaModel, type Token
} from "node-llama-cpp";
import {completionSampling, documentSeed, type ResolvedGenerationSampling} from "@orchard/shared";

/** Why a completion ended: "stop" (end of turn, or the JSON schema's value closed) or "length" (--max-tokens). */
export type GenerationFinish = "stop" | "length";

/** A per-document failure: the document gets no output line and is reported by its id. */
export const GENERATION_FAILURE_CODES = ["GENERATION_TRUNCATED", "JSON_INVALID"] as const;
export type GenerationFailureCode = (typeof GENERATION_FAILURE_CODES)[number];

/** One document's completion. */
export type GeneratedDocument = {
    readonly ok: true;
    readonly completion: string;
    /** The parsed value, with a JSON schema only; the grammar and a parse against the schema vouch for it. */
    readonly json?: unknown;
    readonly finish: GenerationFinish;
    readonly tokens: {readonly prompt: number; readonly completion: number};
} | {
    readonly ok: false;
    readonly code: GenerationFailureCode;
    readonly reason: string;
    readonly tokens: {readonly prompt: number; readonly completion: number};
};

/** What to generate for one document. */
export interface GenerationRequest {
    /** The document's id: with the run's seed, it picks the document's sampling seed. */
    readonly id: string;
    /** The user message (the filled --template, or the --prompt-field's value). */
    readonly message: string;
    /**
     * Prepended to the user message with a blank line, as Mistral's own convention (its later
     * templates and node-llama-cpp's MistralChatWrapper) does: Mixtral-Instruct has no system role.
     */
    readonly system?: string;
}

export interface DocumentGeneratorOptions {
    readonly sampling: ResolvedGenerationSampling;
    /** From `llama.createGrammarForJsonSchema`; every completion then parses and satisfies the schema unless it runs out of tokens. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON schema a user gives
    readonly grammar?: LlamaJsonSchemaGrammar<any>;
    /** Chat wrapper; default resolveChatWrapper(model), the one node-llama-cpp picks for the GGUF's own template. */
    readonly chatWrapper?: ChatWrapper;
}

/**
 * Generates one document's completion at a time on one context sequence, through Mixtral's chat
 * format as node-llama-cpp resolves it for the model file (the resolved chat wrapper formats the
 * prompt and gives the stop triggers). Each document starts from an empty
 * sequence (no reused prefix: a cached prefix changes llama.cpp's batch layout and with it the
 * bits) and samples with its own seed, so its completion depends only on the model, the backend,
 * the settings and the document itself.
 */
export class DocumentGenerator {
    public readonly chatWrapper: ChatWrapper;
    readonly #sequence: LlamaContextSequence;
    readonly #model: LlamaModel;
    readonly #options: DocumentGeneratorOptions;
    readonly #completion: LlamaCompletion;

    /** `sequence`: a context sequence this generator alone uses (its history is cleared before every document). */
    public constructor(sequence: LlamaContextSequence, options: DocumentGeneratorOptions) {
        this.#sequence = sequence;
        this.#model = sequence.model;
        this.#options = options;
        this.chatWrapper = options.chatWrapper ?? resolveChatWrapper(sequence.model);
        this.#completion = new LlamaCompletion({contextSequence: sequence, autoDisposeSequence: false});
    }

    /** The chat history the model sees for a request (system text folded into the user message). */
    public static historyFor(request: GenerationRequest): ChatHistoryItem[] {
        const system = request.system ?? "";
        return [
            {type: "user", text: system === "" ? request.message : `${system}\n\n${request.message}`},
            {type: "model", response: []}
        ];
    }

    /** Tokens of the formatted prompt (BOS, [INST] … [/INST]) for a request. */
    public promptTokens(request: GenerationRequest): Token[] {
        return this.#contextState(request).contextText.tokenize(this.#model.tokenizer);
    }

    public async generate(request: GenerationRequest): Promise<GeneratedDocument> {
        const {sampling, grammar} = this.#options;
        const {contextText, stopGenerationTriggers} = this.#contextState(request);
        const prompt = contextText.tokenize(this.#model.tokenizer);
        await this.#sequence.clearHistory();
        // sampled tokens, from the sequence's meter: the end-of-turn token included
        const outputBefore = this.#sequence.tokenMeter.usedOutputTokens;
        // LlamaCompletion of the chat wrapper's formatted prompt, not LlamaChat: the same tokens and
        // stop triggers as a chat turn, without LlamaChat's per-token chat bookkeeping (bench:generate)
        const response = await this.#completion.generateCompletionWithMeta(prompt, {
            ...completionSampling(sampling, documentSeed(sampling.seed, request.id)),
            customStopTriggers: stopGenerationTriggers,
            // the whole context is this one document's (prompt + --max-tokens are checked to fit): never shift it
            disableContextShift: true,
            ...(grammar === undefined ? {} : {grammar})
        });
        const tokens = {prompt: prompt.length, completion: this.#sequence.tokenMeter.usedOutputTokens - outputBefore};
        const stop = response.metadata.stopReason;
        if (stop === "abort")
            throw new OrchardError("ENGINE_FAILED", `generation of "${request.id}" stopped unexpectedly (${stop})`, {retryable: true});
        const finish: GenerationFinish = stop === "maxTokens" ? "length" : "stop";
        if (grammar === undefined) return {ok: true, completion: response.response, finish, tokens};
        let json: unknown;
        try {
            json = grammar.parse(response.response);
        } catch (error) {
            // a grammar only fails to close when it ran out of tokens; anything else is reported the same way, never written half
            return finish === "length"
                ? {ok: false, code: "GENERATION_TRUNCATED", reason: `the JSON value was not closed within --max-tokens ${sampling.maxTokens}`, tokens}
                : {ok: false, code: "JSON_INVALID", reason: `the completion does not parse against the schema (${(error as Error).message})`, tokens};
        }
        return {ok: true, completion: response.response, json, finish, tokens};
    }

    #contextState(request: GenerationRequest) {
        return this.chatWrapper.generateContextState({chatHistory: DocumentGenerator.historyFor(request)});
    }
}
