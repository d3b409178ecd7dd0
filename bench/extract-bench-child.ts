// One measurement of bench/extract-bench.ts, in its own process so that modes do not share
// allocator state, threads or page cache warmth beyond the model file itself.
// Usage: extract-bench-child.ts <raw|one-pass|three-pass|readout> <model> <prompts.json> <threads> <contexts> <gpu> <prefix-reuse>
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel, type LlamaContext, type Token} from "node-llama-cpp";
import {ExtractionEngine, TOP_TWO_REQUEST, type EngineGpu} from "@orchard/worker";
import type {BenchPrompt} from "./extract-bench-workloads.ts";

const [mode, modelPath, documentsPath, threadsArg, contextsArg, gpuArg, reuseArg] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const prompts = JSON.parse(readFileSync(documentsPath, "utf8")) as BenchPrompt[];
const threads = Number(threadsArg);
const contexts = Number(contextsArg);
const gpu = (gpuArg === "false" ? false : gpuArg) as EngineGpu;
const contextSize = 1024;
const batchSize = 512;

async function measure(run: (indexes: number[]) => Promise<void>, tokens: number[][]) {
    await run([0]); // warm-up: page in the weights, allocate buffers
    const started = performance.now();
    await run(tokens.map((_, i) => i));
    const seconds = (performance.now() - started) / 1000;
    const totalTokens = tokens.reduce((sum, t) => sum + t.length, 0);
    return {mode, documents: tokens.length, tokens: totalTokens, seconds, tokensPerSecond: totalTokens / seconds};
}

if (mode === "raw" || mode === "readout") {
    // Plain prefill, no outputs at all (llama.cpp then skips the LM head), with the engine's
    // context settings: `contexts` documents at a time in as many contexts (sharing the threads on CPU).
    const llama = await getLlama({gpu, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath, defaultContextFlashAttention: true});
    const threadsPerContext = llama.gpu === false ? Math.max(1, Math.floor(threads / contexts)) : threads;
    const contextsList = await Promise.all(Array.from({length: contexts}, () =>
        model.createContext({contextSize, batchSize, threads: threadsPerContext, sequences: 1, flashAttention: true})));
    const tokens = prompts.map((prompt) => [model.tokens.bos as number, ...model.tokenize(prompt.text)]);
    const sequences = new Map(contextsList.map((context) => [context, context.getSequence()]));
    const evaluate = async (context: LlamaContext, document: number[], readTopTwo: boolean) => {
        const sequence = sequences.get(context)!;
        await sequence.clearHistory();
        await sequence.controlledEvaluate(readTopTwo ? document.map((token) => [token as Token, {generateNext: TOP_TWO_REQUEST}]) : document as Token[]);
    };
    const pass = (readTopTwo: boolean) => async (indexes: number[]) => {
        let next = 0;
        await Promise.all(contextsList.map(async (context) => {
            while (next < indexes.length) await evaluate(context, tokens[indexes[next++] as number] as number[], readTopTwo);
        }));
    };
    if (mode === "raw") process.stdout.write(JSON.stringify({...await measure(pass(false), tokens), contexts}) + "\n");
    else {
        // The read-out on its own: each document prefilled plain, then again with the engine's top-2
        // request at every position, back to back (so load from elsewhere on the machine hits both
        // alike); the difference per position is what reading the logits costs outside the forward pass.
        const context = contextsList[0] as LlamaContext;
        await evaluate(context, tokens[0] as number[], true); // warm-up
        let plainMs = 0;
        let readMs = 0;
        for (const document of tokens) {
            let started = performance.now();
            await evaluate(context, document, false);
            plainMs += performance.now() - started;
            started = performance.now();
            await evaluate(context, document, true);
            readMs += performance.now() - started;
        }
        const positions = tokens.reduce((sum, t) => sum + t.length, 0);
        process.stdout.write(JSON.stringify({
            mode, documents: tokens.length, tokens: positions, seconds: readMs / 1000, tokensPerSecond: positions / (readMs / 1000),
            contexts, plainSeconds: plainMs / 1000, positions, readoutMsPerPosition: (readMs - plainMs) / positions
        }) + "\n");
    }
    for (const context of contextsList) await context.dispose();
    await model.dispose();
    await llama.dispose();
} else {
    const route = mode === "three-pass" ? "three-pass" : "one-pass";
    const prefixReuse = reuseArg === "auto" ? "auto" : "off";
    const engine = await ExtractionEngine.load({modelPath, gpu, threads, contexts, contextSize, batchSize, route, prefixReuse});
    const tokens = prompts.map((prompt) => engine.tokenizePrompt(prompt.text));
    const result = await measure(async (indexes) => {
        // the extract job's pattern: up to `contexts` documents in flight, results in order
        const inFlight: Promise<number[]>[] = [];
        for (const index of indexes) {
            inFlight.push(engine.extract(tokens[index] as number[], (prompts[index] as BenchPrompt).promptText));
            if (inFlight.length >= contexts) await inFlight.shift();
        }
        await Promise.all(inFlight);
    }, tokens);
    const {reused, full} = engine.prefixReuseCounts;
    process.stdout.write(JSON.stringify({...result, mode, contexts, prefixReuse: {reused, full}}) + "\n");
    await engine.close();
}
