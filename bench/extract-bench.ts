// `npm run bench:extract`: raw prefill vs the extraction engine on the `bench` synthetic model,
// ~300-token re-ask prompts, measured in one run. Prints machine facts, a table, and as its
// last line one JSON object with rawTokensPerSecond, extractTokensPerSecond and ratio.
//   npm run bench:extract -- [--documents 8] [--rounds 2] [--threads N] [--type f16|q8_0|f32] [--model FILE] [--three-pass]
import {writeFileSync, mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {buildReaskPrompt, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION} from "@orchard/shared";
import {ensureSyntheticModel, MODEL_PRESETS, DEFAULT_ENGINE_CONTEXTS} from "@orchard/worker";
import {machineFacts, median, printTable, repoRoot, runChild} from "./bench-support.ts";

const {values} = parseArgs({options: {
    documents: {type: "string", default: "8"},
    rounds: {type: "string", default: "2"},
    threads: {type: "string"},
    model: {type: "string"},
    type: {type: "string", default: "f16"},
    "three-pass": {type: "boolean", default: false}
}});
const documentCount = Number(values.documents);
const rounds = Number(values.rounds);
const threads = Number(values.threads ?? machineFacts().cores);

const preset = MODEL_PRESETS.bench;
const weightType = values.type as "f16" | "q8_0" | "f32";
const modelPath = values.model ?? await ensureSyntheticModel({preset: "bench", type: weightType, seed: 1, dir: join(repoRoot, "models")});

// ~300-token documents: varied English review-like text (deterministic)
const words = "the film was a quiet surprise with strong performances sharp writing and a score that lingers long after the credits though the middle act drags and some jokes fall flat".split(" ");
const prompts = Array.from({length: documentCount}, (_, d) => {
    const text = Array.from({length: 215}, (_, i) => words[(i * 7 + d * 13 + (i >> 3)) % words.length]).join(" ");
    return buildReaskPrompt(DEFAULT_PROMPT_TEXT, `Review ${d + 1}: ${text}.`, DEFAULT_TRAILING_INSTRUCTION);
});
const documentsPath = join(mkdtempSync(join(tmpdir(), "orchard-bench-")), "prompts.json");
writeFileSync(documentsPath, JSON.stringify(prompts));

interface ChildResult {mode: string; documents: number; tokens: number; seconds: number; tokensPerSecond: number; contexts?: number}
// contexts share the threads, as the engine does on CPU; "raw" single-stream is the issue's baseline
const modes: [string, number][] = [["raw", 1], ["raw", 2], ["one-pass", 1], ["one-pass", 2],
    ...(values["three-pass"] ? [["three-pass", 1] as [string, number]] : [])];
const results = new Map<string, ChildResult[]>();
const child = join(repoRoot, "bench", "extract-bench-child.ts");
for (let round = 0; round < rounds; round++) {
    // modes interleaved round by round, so a noisy neighbour affects all of them alike
    for (const [mode, contexts] of modes) {
        const key = mode === "three-pass" ? mode : `${mode} x${contexts}`;
        const result = await runChild<ChildResult>(child, [mode, modelPath, documentsPath, String(threads), String(contexts)]);
        results.set(key, [...(results.get(key) ?? []), result]);
        process.stderr.write(`round ${round + 1}/${rounds} ${key}: ${result.tokensPerSecond.toFixed(1)} tok/s\n`);
    }
}

const tps = (key: string) => median((results.get(key) ?? []).map((r) => r.tokensPerSecond));
const raw = tps("raw x1");
const defaultKey = `one-pass x${DEFAULT_ENGINE_CONTEXTS}`;
const extract = tps(defaultKey);
const E = preset.embeddingLength;
const kv = E * preset.headCountKv / preset.headCount;
const layerMacs = preset.blockCount * (2 * E * E + 2 * E * kv + preset.expertUsedCount * 3 * E * preset.feedForwardLength + 8 * E);
const headMacs = 32000 * E;
const tokensPerDocument = (results.get("raw x1")?.[0]?.tokens ?? 0) / documentCount;

const facts = machineFacts();
process.stdout.write(`Orchard extraction benchmark  ${facts.cpu} (${facts.cores} cores, ${facts.memoryGiB} GiB), ${facts.platform}, node ${facts.node}, node-llama-cpp ${facts.nodeLlamaCpp}\n`);
process.stdout.write(`model: ${values.model ?? `bench preset ${weightType}`} (E ${E}, ${preset.blockCount} layers, F ${preset.feedForwardLength}, 8 experts top-2); LM head = ${(100 * headMacs / (headMacs + layerMacs)).toFixed(1)}% of per-token MACs (real Mixtral: ~1%)\n`);
process.stdout.write(`${documentCount} documents of ~${tokensPerDocument.toFixed(0)} tokens, ${threads} threads, median of ${rounds} rounds\n\n`);
printTable(["mode", "tokens/s", "ms/token", "vs raw"], [...results.keys()].map((key) => {
    const value = tps(key);
    return [key, value.toFixed(1), (1000 / value).toFixed(3), (value / raw).toFixed(3)];
}));
process.stdout.write("\nxN: N contexts sharing the threads, N documents at a time. raw: prefill, no outputs (ratio's baseline: raw x1).\n" +
    `one-pass: the extraction engine (default x${DEFAULT_ENGINE_CONTEXTS}). three-pass: the public-API fallback.\n\n`);
process.stdout.write(JSON.stringify({
    benchmark: "extract",
    machine: facts,
    model: {preset: values.model ?? "bench", type: weightType, embeddingLength: E, blockCount: preset.blockCount, feedForwardLength: preset.feedForwardLength, headShareOfMacs: headMacs / (headMacs + layerMacs)},
    documents: documentCount,
    tokensPerDocument,
    threads,
    rounds,
    rawTokensPerSecond: raw,
    rawParallelTokensPerSecond: tps(`raw x${DEFAULT_ENGINE_CONTEXTS}`),
    extractTokensPerSecond: extract,
    extractContexts: DEFAULT_ENGINE_CONTEXTS,
    ratio: extract / raw,
    ratioToParallelRaw: extract / tps(`raw x${DEFAULT_ENGINE_CONTEXTS}`),
    modes: Object.fromEntries([...results.keys()].map((key) => [key, tps(key)]))
}) + "\n");
