import {availableParallelism} from "node:os";
import {chatRequestSchema, completionSampling, OrchardError, resolveGenerationSampling, type ChatRequest, type Logger} from "@orchard/shared";
import {
    getLlama, LlamaChatSession, LlamaCompletion, LlamaLogLevel, resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel
} from "node-llama-cpp";
import type {EngineGpu} from "../engine/extraction-engine-options.ts";
import {chatTools, type ToolCall} from "./chat-tools.ts";
import {PlaygroundHttpError} from "./playground-http-error.ts";

export interface ChatEngineOptions {
    readonly modelPath: string;
    readonly contextSize: number;
    readonly batchSize: number;
    readonly threads?: number;
    readonly gpu: EngineGpu;
    readonly logger?: Logger;
}

/** How a chat turn ended: the model's end of turn, the token limit, the context's end, or the Stop button. */
export type ChatFinish = "stop" | "length" | "context-full" | "aborted";

export interface ChatTurn {
    readonly text: string;
    readonly finish: ChatFinish;
    readonly tokens: {readonly prompt: number; readonly completion: number};
    /** The parsed answer, with a JSON schema and a completed answer only. */
    readonly json?: unknown;
}

/**
 * The playground's chat: the model loaded a second time, without the re-ask's mean pooling, on one
 * context, formatting the conversation with the chat wrapper node-llama-cpp resolves for the GGUF
 * (Mixtral-Instruct's [INST] turns) and sampling with `orchard generate`'s settings and mapping
 * (resolveGenerationSampling, completionSampling). Each turn starts from an empty sequence and
 * never shifts the context: a conversation that no longer fits says so (CONTEXT_FULL).
 */
export class ChatEngine {
    readonly #llama: Llama;
    readonly #model: LlamaModel;
    readonly #context: LlamaContext;
    readonly #completion: LlamaCompletion;
    readonly #sequence: LlamaContextSequence;
    readonly #chatWrapper: ChatWrapper;
    #closed = false;

    private constructor(llama: Llama, model: LlamaModel, context: LlamaContext) {
        this.#llama = llama;
        this.#model = model;
        this.#context = context;
        this.#chatWrapper = resolveChatWrapper(model);
        this.#sequence = context.getSequence();
        this.#completion = new LlamaCompletion({contextSequence: this.#sequence, autoDisposeSequence: false});
    }

    public static async load(options: ChatEngineOptions): Promise<ChatEngine> {
        const log = options.logger?.child({component: "chat-engine"});
        const llama = await getLlama({gpu: options.gpu, build: "never", logLevel: LlamaLogLevel.error, logger: (level, message) => log?.debug({llamaLevel: level}, message.trimEnd())});
        let model: LlamaModel | undefined;
        try {
            model = await llama.loadModel({modelPath: options.modelPath});
            const context = await model.createContext({
                contextSize: options.contextSize, batchSize: Math.min(options.batchSize, options.contextSize), sequences: 1, threads: options.threads ?? availableParallelism()
            });
            log?.info({contextSize: options.contextSize}, "chat engine ready");
            return new ChatEngine(llama, model, context);
        } catch (error) {
            await model?.dispose().catch(() => undefined);
            await llama.dispose().catch(() => undefined);
            throw new OrchardError("MODEL_INVALID", `${options.modelPath}: llama.cpp could not load the model for chat (${(error as Error).message})`, {cause: error});
        }
    }

    public get contextSize(): number {
        return this.#context.contextSize;
    }

    /** Checks a request body; a 400 PlaygroundHttpError says what is wrong. */
    public static parse(body: unknown): ChatRequest {
        const parsed = chatRequestSchema.safeParse(body);
        if (!parsed.success)
            throw new PlaygroundHttpError(400, "INVALID_REQUEST", parsed.error.issues.map((issue) => issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message).join("; "));
        return parsed.data;
    }

    /** One assistant turn, its text passed to `onText` as it is generated; `signal` stops it (finish "aborted"); tool calls go to `onTool`. */
    public async reply(request: ChatRequest, hooks: {onText: (text: string) => void; onTool?: (call: ToolCall) => void; signal: AbortSignal}): Promise<ChatTurn> {
        const sampling = resolveGenerationSampling({
            maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP, topK: request.topK, repetitionPenalty: request.repetitionPenalty, seed: request.seed
        });
        const grammar = request.jsonSchema === undefined ? undefined : await this.#grammar(request.jsonSchema);
        const history: ChatHistoryItem[] = [
            ...request.messages.map((message): ChatHistoryItem => message.role === "user" ? {type: "user", text: message.text} : {type: "model", response: [message.text]}),
            {type: "model", response: []}
        ];
        const {contextText, stopGenerationTriggers} = this.#chatWrapper.generateContextState({chatHistory: history});
        const prompt = contextText.tokenize(this.#model.tokenizer);
        const room = this.contextSize - prompt.length;
        if (room < 1)
            throw new PlaygroundHttpError(400, "CONTEXT_FULL",
                `the conversation is ${prompt.length} tokens and the context holds ${this.contextSize}: clear the history (or restart with a larger --context-size)`,
                {tokens: prompt.length, contextSize: this.contextSize});
        const maxTokens = Math.min(sampling.maxTokens, room);
        const sequence = this.#sequence;
        await sequence.clearHistory();
        if (request.tools === true) return this.#replyWithTools(request, history, {...sampling, maxTokens}, {asked: sampling.maxTokens, prompt: prompt.length}, hooks);
        const outputBefore = sequence.tokenMeter.usedOutputTokens;
        // stopOnAbortSignal covers a Stop once tokens flow; one before the first token makes node-llama-cpp throw
        const response = await this.#completion.generateCompletionWithMeta(prompt, {
            ...completionSampling({...sampling, maxTokens}, sampling.seed),
            customStopTriggers: stopGenerationTriggers,
            disableContextShift: true,
            onTextChunk: hooks.onText,
            signal: hooks.signal,
            stopOnAbortSignal: true,
            ...(grammar === undefined ? {} : {grammar})
        }).catch((error: unknown) => {
            if (hooks.signal.aborted) return {response: "", metadata: {stopReason: "abort" as const}};
            throw error;
        });
        const tokens = {prompt: prompt.length, completion: sequence.tokenMeter.usedOutputTokens - outputBefore};
        const stop = response.metadata.stopReason;
        const finish: ChatFinish = stop === "abort" ? "aborted" : stop === "maxTokens" ? (maxTokens < sampling.maxTokens ? "context-full" : "length") : "stop";
        if (grammar === undefined || finish !== "stop") return {text: response.response, finish, tokens};
        return {text: response.response, finish, tokens, json: grammar.parse(response.response)};
    }

    /**
     * A turn with the tools: node-llama-cpp's LlamaChatSession runs the function-calling loop (the
     * chat wrapper describes the functions to the model, parses its calls, feeds back the results);
     * `final_answer` ends the turn with its answer.
     */
    async #replyWithTools(
        request: ChatRequest, history: ChatHistoryItem[], sampling: ReturnType<typeof resolveGenerationSampling>, counts: {asked: number; prompt: number},
        hooks: {onText: (text: string) => void; onTool?: (call: ToolCall) => void; signal: AbortSignal}
    ): Promise<ChatTurn> {
        const session = new LlamaChatSession({contextSequence: this.#sequence, autoDisposeSequence: false, chatWrapper: this.#chatWrapper});
        const finished = new AbortController();
        const signal = AbortSignal.any([hooks.signal, finished.signal]);
        let finalAnswer: string | undefined;
        const outputBefore = this.#sequence.tokenMeter.usedOutputTokens;
        try {
            // the conversation before the last user message; the session adds that one and the answer
            session.setChatHistory(history.slice(0, -2));
            const last = request.messages.at(-1)?.text ?? "";
            const functions = chatTools({onCall: (call) => hooks.onTool?.(call), finish: (answer) => {
                finalAnswer = answer;
                hooks.onText(answer);
                finished.abort();
            }});
            const {repeatPenalty, ...rest} = completionSampling(sampling, sampling.seed);
            const response = await session.promptWithMeta(last, {
                ...rest, ...(repeatPenalty === false ? {} : {repeatPenalty}), functions, onTextChunk: hooks.onText, signal, stopOnAbortSignal: true
            }).catch((error: unknown) => {
                if (signal.aborted) return {responseText: "", stopReason: "abort" as const};
                throw error;
            });
            const tokens = {prompt: counts.prompt, completion: this.#sequence.tokenMeter.usedOutputTokens - outputBefore};
            if (finalAnswer !== undefined) return {text: finalAnswer, finish: "stop", tokens};
            const finish: ChatFinish = response.stopReason === "abort" ? "aborted"
                : response.stopReason === "maxTokens" ? (sampling.maxTokens < counts.asked ? "context-full" : "length") : "stop";
            return {text: response.responseText, finish, tokens};
        } finally {
            session.dispose({disposeSequence: false});
        }
    }

    async #grammar(schema: Record<string, unknown>) {
        try {
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a user's schema, checked by node-llama-cpp here
            return await this.#llama.createGrammarForJsonSchema(schema as any);
        } catch (error) {
            throw new PlaygroundHttpError(400, "INVALID_SCHEMA", `node-llama-cpp cannot turn this JSON schema into a grammar: ${(error as Error).message}`);
        }
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        await this.#context.dispose();
        await this.#model.dispose();
        await this.#llama.dispose();
    }
}
