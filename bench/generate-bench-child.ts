// One measurement of bench/generate-bench.ts, in its own process so that modes do not share
// allocator state, threads or page cache warmth beyond the model file itself.
// Usage: generate-bench-child.ts <mode> <model> <prompts.json> <threads> <maxTokens>
//   mode: plain (node-llama-cpp's LlamaCompletion of the same prompt tokens), generate, generate-schema
import {readFileSync} from "node:fs";
import {getLlama, LlamaCompletion, LlamaLogLevel, type LlamaContextSequence, type Token} from "node-llama-cpp";
import {documentSeed, resolveGenerationSampling} from "@orchard/shared";
import {DocumentGenerator} from "@orchard/worker";

const [mode, modelPath, promptsPath, threadsArg, maxTokensArg] = process.argv.slice(2) as [string, string, string, string, string];
const messages = JSON.parse(readFileSync(promptsPath, "utf8")) as string[];
const sampling = resolveGenerationSampling({maxTokens: Number(maxTokensArg), seed: 1});
// the schema of the README's recipe, bounded so that the random weights close it
const SCHEMA = {type: "object", properties: {sentiment: {enum: ["positive", "negative"]}, spoilers: {type: "boolean"}, review: {type: "string", maxLength: 80}}} as const;

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: 1024, batchSize: 512, threads: Number(threadsArg), sequences: 1});
const sequence: LlamaContextSequence = context.getSequence();
const grammar = mode === "generate-schema" ? await llama.createGrammarForJsonSchema(SCHEMA) : undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the generator takes any schema's grammar
const generator = new DocumentGenerator(sequence, {sampling, ...(grammar === undefined ? {} : {grammar: grammar as any})});
const completion = new LlamaCompletion({contextSequence: sequence});

/** One document; both sides start from an empty sequence with the same prompt tokens and sampling. */
async function one(index: number): Promise<void> {
    const request = {id: `doc-${index}`, message: messages[index] as string};
    if (mode === "plain") {
        await sequence.clearHistory();
        await completion.generateCompletion(generator.promptTokens(request) as Token[], {
            maxTokens: sampling.maxTokens, temperature: sampling.temperature, topP: sampling.topP, topK: sampling.topK, minP: sampling.minP,
            seed: documentSeed(sampling.seed, request.id),
            // the same settings: orchard's --repetition-penalty 1 is no penalty (LlamaCompletion's default is 1.1)
            repeatPenalty: false
        });
    } else {
        await generator.generate(request);
    }
}

await one(0); // warm-up: page in the weights, allocate buffers
const before = sequence.tokenMeter.usedOutputTokens;
const inputBefore = sequence.tokenMeter.usedInputTokens;
const started = performance.now();
for (let i = 0; i < messages.length; i++) await one(i);
const seconds = (performance.now() - started) / 1000;
const generated = sequence.tokenMeter.usedOutputTokens - before;
process.stdout.write(JSON.stringify({
    mode, documents: messages.length, generatedTokens: generated, promptTokens: sequence.tokenMeter.usedInputTokens - inputBefore, seconds,
    tokensPerSecond: generated / seconds
}) + "\n");
completion.dispose({disposeSequence: false});
await context.dispose();
await model.dispose();
await llama.dispose();
