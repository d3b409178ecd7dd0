// One measurement of bench/extract-bench.ts, in its own process so that modes do not share
// allocator state, threads or page cache warmth beyond the model file itself.
// Usage: extract-bench-child.ts <mode> <model> <documents.json> <threads> <contexts>
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel, type Token} from "node-llama-cpp";
import {ExtractionEngine} from "@orchard/worker";

const [mode, modelPath, documentsPath, threadsArg, contextsArg] = process.argv.slice(2) as [string, string, string, string, string];
const prompts = JSON.parse(readFileSync(documentsPath, "utf8")) as string[];
const threads = Number(threadsArg);
const contexts = Number(contextsArg);
const contextSize = 1024;
const batchSize = 512;

async function measure(run: (tokens: number[][]) => Promise<void>, tokenize: (text: string) => number[]) {
    const tokens = prompts.map(tokenize);
    await run(tokens.slice(0, 1)); // warm-up: page in the weights, allocate buffers
    const started = performance.now();
    await run(tokens);
    const seconds = (performance.now() - started) / 1000;
    const totalTokens = tokens.reduce((sum, t) => sum + t.length, 0);
    return {mode, documents: tokens.length, tokens: totalTokens, seconds, tokensPerSecond: totalTokens / seconds};
}

if (mode === "raw") {
    // Plain prefill, no outputs at all (llama.cpp then skips the LM head), with the engine's
    // context settings: `contexts` documents at a time in as many contexts sharing the threads.
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath, defaultContextFlashAttention: true});
    const threadsPerContext = Math.max(1, Math.floor(threads / contexts));
    const contextsList = await Promise.all(Array.from({length: contexts}, () =>
        model.createContext({contextSize, batchSize, threads: threadsPerContext, sequences: 1, flashAttention: true})));
    const tokenize = (text: string) => [model.tokens.bos as number, ...model.tokenize(text)];
    const sequences = new Map(contextsList.map((context) => [context, context.getSequence()]));
    const evaluate = async (context: (typeof contextsList)[number], tokens: number[]) => {
        const sequence = sequences.get(context)!;
        await sequence.clearHistory();
        await sequence.controlledEvaluate(tokens as Token[]);
    };
    const result = await measure(async (docs) => {
        let next = 0;
        await Promise.all(contextsList.map(async (context) => {
            while (next < docs.length) await evaluate(context, docs[next++] as number[]);
        }));
    }, tokenize);
    process.stdout.write(JSON.stringify({...result, contexts}) + "\n");
    for (const context of contextsList) await context.dispose();
    await model.dispose();
} else {
    const route = mode === "three-pass" ? "three-pass" : "one-pass";
    const engine = await ExtractionEngine.load({modelPath, gpu: false, threads, contexts, contextSize, batchSize, route});
    const result = await measure(async (docs) => {
        // the extract job's pattern: up to `contexts` documents in flight, results in order
        const inFlight: Promise<number[]>[] = [];
        for (const tokens of docs) {
            inFlight.push(engine.extract(tokens));
            if (inFlight.length >= contexts) await inFlight.shift();
        }
        await Promise.all(inFlight);
    }, (text) => engine.tokenizePrompt(text));
    process.stdout.write(JSON.stringify({...result, mode: `${mode}`, contexts}) + "\n");
    await engine.close();
}
