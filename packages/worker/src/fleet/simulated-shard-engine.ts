import {createHash} from "node:crypto";
import {ATTRIBUTE_CLIP, ATTRIBUTE_COUNT, OrchardError, type GenerateSettings} from "@orchard/shared";
import type {GeneratedDocument, GenerationRequest} from "../generate/document-generator.ts";
import {simulatedMachineFacts} from "../engine/machine-facts-probe.ts";
import type {ShardEngine} from "./shard-engine.ts";

export interface SimulatedShardEngineOptions {
    /** Prompt tokens "evaluated" per second; documents take tokens / tokensPerSecond each, one at a time. */
    readonly tokensPerSecond: number;
    /** Longest prompt accepted, in tokens. Default 4096. */
    readonly contextSize?: number;
}

/** Estimated bytes per token of the simulated tokenizer (Mixtral's averages ~3.5-4 for English). */
const BYTES_PER_TOKEN = 4;

/**
 * Fake inference for scaling tests and benchmarks: sleeps tokens / tokensPerSecond per document (one
 * document at a time, like one busy GPU) and returns deterministic attributes derived from the
 * prompt's hash. Never mixed into a real run: workers using it advertise the simulated fingerprint
 * of their model (simulatedEngineFingerprint), which only runs created with the simulated engine use.
 */
export class SimulatedShardEngine implements ShardEngine {
    public readonly kind = "simulated";
    public readonly contexts = 1;
    public readonly contextSize: number;
    /** Its attributes are a hash of the tokens: no setting changes them. */
    public readonly numerics = undefined;
    public readonly machine = simulatedMachineFacts();
    readonly #tokensPerSecond: number;
    /** Serializes documents: the simulated device does one at a time. */
    #busy: Promise<unknown> = Promise.resolve();

    public constructor(options: SimulatedShardEngineOptions) {
        this.#tokensPerSecond = options.tokensPerSecond;
        this.contextSize = options.contextSize ?? 4096;
    }

    /** BOS plus one token per 4 UTF-8 bytes; each "token" is a byte-sum, so equal texts give equal tokens. */
    public tokenizePrompt(text: string): number[] {
        const bytes = Buffer.from(text, "utf8");
        const tokens = [1];
        for (let start = 0; start < bytes.length; start += BYTES_PER_TOKEN) {
            let value = 0;
            for (let i = start; i < Math.min(bytes.length, start + BYTES_PER_TOKEN); i++) value = (value * 257 + (bytes[i] as number)) % 32000;
            tokens.push(value);
        }
        return tokens;
    }

    public async extract(tokens: readonly number[]): Promise<number[]> {
        const run = this.#busy.then(() => new Promise((resolve) => setTimeout(resolve, (tokens.length / this.#tokensPerSecond) * 1000)));
        this.#busy = run;
        await run;
        return simulatedAttributes(tokens);
    }

    /** The simulated tokenizer's EOS (Mixtral's id). */
    public readonly eosToken = 2;

    /** Deterministic log-probabilities in (-20, 0] from each continuation's hash after the prefix, at the same speed as `extract`. */
    public async scoreContinuations(prefix: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[]> {
        const tokens = prefix.length + continuations.reduce((sum, continuation) => sum + continuation.length, 0);
        const run = this.#busy.then(() => new Promise((resolve) => setTimeout(resolve, (tokens / this.#tokensPerSecond) * 1000)));
        this.#busy = run;
        await run;
        return continuations.map((continuation) => -20 * ((createHash("sha256").update(Uint32Array.from([...prefix, ...continuation])).digest()[0] as number) / 256));
    }

    public async prepareTask(): Promise<void> {}

    /** BOS plus the simulated tokens of the message (the simulated engine has no chat format). */
    public generationPromptTokens(request: GenerationRequest): number[] {
        return this.tokenizePrompt(`${request.system ?? ""}\n\n${request.message}`);
    }

    /** A completion derived from the prompt's hash at the simulated speed; it cannot follow a JSON schema. */
    public async generate(request: GenerationRequest, settings: GenerateSettings): Promise<GeneratedDocument> {
        if (settings.jsonSchema !== undefined)
            throw new OrchardError("ENGINE_UNSUPPORTED", "the simulated engine cannot generate under a JSON schema");
        const tokens = this.generationPromptTokens(request);
        await this.extract(tokens);
        const completion = createHash("sha256").update(`${settings.sampling.seed}\n${request.id}\n${request.message}`).digest("hex").slice(0, 2 * Math.min(32, settings.sampling.maxTokens));
        return {ok: true, completion, finish: "stop", tokens: {prompt: tokens.length, completion: completion.length / 2}};
    }

    public async close(): Promise<void> {
        await this.#busy;
    }
}

/** 32 float32 values in [-ATTRIBUTE_CLIP, ATTRIBUTE_CLIP] from the SHA-256 of the tokens: deterministic, distinct per prompt. */
export function simulatedAttributes(tokens: readonly number[]): number[] {
    const digest = createHash("sha256").update(Uint32Array.from(tokens)).digest();
    return Array.from({length: ATTRIBUTE_COUNT}, (_, i) => Math.fround((((digest[i % digest.length] as number) / 255) * 2 - 1) * ATTRIBUTE_CLIP));
}
