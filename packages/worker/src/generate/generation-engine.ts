import {availableParallelism} from "node:os";
import {OrchardError, type Logger} from "@orchard/shared";
import {getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel} from "node-llama-cpp";
import {assertModelFile} from "../engine/assert-model-file.ts";
import {DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, type EngineGpu} from "../engine/extraction-engine-options.ts";
import {DocumentGenerator} from "./document-generator.ts";
import type {ResolvedGenerationSampling} from "@orchard/shared";

export interface GenerationEngineOptions {
    readonly modelPath: string;
    /** Tokens per context: prompt plus --max-tokens must fit. Default 4096. */
    readonly contextSize?: number;
    /** Tokens per llama.cpp decode batch. Default 512. */
    readonly batchSize?: number;
    /** CPU threads for llama.cpp. Default: the machine's available parallelism (node-llama-cpp's own default oversubscribes small machines). */
    readonly threads?: number;
    /** Default "auto". */
    readonly gpu?: EngineGpu;
    readonly sampling: ResolvedGenerationSampling;
    /** A JSON schema (readJsonSchemaFile) that every completion is constrained by; `schemaFile` names it in messages. */
    readonly jsonSchema?: {readonly schema: Record<string, unknown>; readonly schemaFile: string};
    readonly logger?: Logger;
}

/**
 * A model, one context and a DocumentGenerator on it: what `orchard generate` and a fleet worker's
 * generate task hold. Create with `GenerationEngine.load`, then `close()`.
 */
export class GenerationEngine {
    public readonly generator: DocumentGenerator;
    public readonly contextSize: number;
    public readonly withJsonSchema: boolean;
    readonly #llama: Llama;
    readonly #model: LlamaModel;
    readonly #context: LlamaContext;
    readonly #sequence: LlamaContextSequence;
    readonly #generators = new Map<string, DocumentGenerator>();
    #closed = false;

    private constructor(init: {llama: Llama; model: LlamaModel; context: LlamaContext; sequence: LlamaContextSequence; generator: DocumentGenerator; withJsonSchema: boolean}) {
        this.#llama = init.llama;
        this.#model = init.model;
        this.#context = init.context;
        this.#sequence = init.sequence;
        this.generator = init.generator;
        this.contextSize = init.context.contextSize;
        this.withJsonSchema = init.withJsonSchema;
    }

    public static async load(options: GenerationEngineOptions): Promise<GenerationEngine> {
        const log = options.logger?.child({component: "generation-engine"});
        await assertModelFile(options.modelPath);
        const llama = await getLlama({
            gpu: options.gpu ?? "auto",
            build: "never",
            logLevel: LlamaLogLevel.error,
            logger: (level, message) => log?.debug({llamaLevel: level}, message.trimEnd())
        });
        let model: LlamaModel | undefined;
        try {
            const grammar = options.jsonSchema === undefined ? undefined : await createGrammar(llama, options.jsonSchema);
            model = await llama.loadModel({modelPath: options.modelPath}).catch((error: unknown) => {
                throw new OrchardError("MODEL_INVALID", `${options.modelPath}: llama.cpp could not load the model (${(error as Error).message})`, {cause: error});
            });
            const contextSize = options.contextSize ?? DEFAULT_CONTEXT_SIZE;
            const context = await model.createContext({
                contextSize,
                batchSize: Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, contextSize),
                sequences: 1,
                threads: options.threads ?? availableParallelism()
            });
            const sequence = context.getSequence();
            const generator = new DocumentGenerator(sequence, {sampling: options.sampling, ...(grammar === undefined ? {} : {grammar})});
            log?.info({gpu: llama.gpu, contextSize, chatWrapper: generator.chatWrapper.wrapperName}, "generation engine ready");
            return new GenerationEngine({llama, model, context, sequence, generator, withJsonSchema: grammar !== undefined});
        } catch (error) {
            await model?.dispose().catch(() => undefined);
            await llama.dispose().catch(() => undefined);
            throw error;
        }
    }

    /**
     * A generator on this engine's sequence with other sampling or another JSON schema (a fleet
     * worker serves runs that each carry theirs), cached by settings. Like `generator`, one document
     * at a time: they share the sequence.
     */
    public async generatorFor(sampling: ResolvedGenerationSampling, jsonSchema: Record<string, unknown> | undefined): Promise<DocumentGenerator> {
        const key = JSON.stringify([sampling, jsonSchema ?? null]);
        const cached = this.#generators.get(key);
        if (cached !== undefined) return cached;
        const grammar = jsonSchema === undefined ? undefined : await createGrammar(this.#llama, {schema: jsonSchema, schemaFile: "the run's --json-schema"});
        const generator = new DocumentGenerator(this.#sequence, {sampling, chatWrapper: this.generator.chatWrapper, ...(grammar === undefined ? {} : {grammar})});
        // a worker sees a handful of runs: a bound keeps a long-lived worker's cache small
        if (this.#generators.size >= 8) this.#generators.clear();
        this.#generators.set(key, generator);
        return generator;
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        await this.#context.dispose();
        await this.#model.dispose();
        await this.#llama.dispose();
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

async function createGrammar(llama: Llama, jsonSchema: NonNullable<GenerationEngineOptions["jsonSchema"]>) {
    try {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a user's schema, checked by readJsonSchemaFile and here
        return await llama.createGrammarForJsonSchema(jsonSchema.schema as any);
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `${jsonSchema.schemaFile}: node-llama-cpp cannot turn this JSON schema into a grammar (${(error as Error).message})`, {cause: error});
    }
}
