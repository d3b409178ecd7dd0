// `npm run bench:generate`: generated tokens/s of `orchard generate`'s module (DocumentGenerator)
// without and with a JSON schema, vs node-llama-cpp's own plain completion (LlamaCompletion) of
// the same prompt tokens with the same sampling, measured in one run. Prints machine facts, a
// table, and as its last line one JSON object with the ratios (goal: >= 0.9 without a schema).
//   npm run bench:generate -- [--documents 8] [--rounds 2] [--max-tokens 64] [--threads N] [--preset bench|tiny] [--type f16|q8_0|f32] [--model FILE]
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {ensureSyntheticModel, MODEL_PRESETS} from "@orchard/worker";
import {machineFacts, median, printTable, repoRoot, runChild} from "./bench-support.ts";

const {values} = parseArgs({options: {
    documents: {type: "string", default: "8"},
    rounds: {type: "string", default: "2"},
    "max-tokens": {type: "string", default: "64"},
    threads: {type: "string"},
    preset: {type: "string", default: "bench"},
    model: {type: "string"},
    type: {type: "string", default: "f16"}
}});
const documentCount = Number(values.documents);
const rounds = Number(values.rounds);
const threads = Number(values.threads ?? machineFacts().cores);
const presetName = values.preset as "bench" | "tiny";
const weightType = values.type as "f16" | "q8_0" | "f32";
const modelPath = values.model ?? await ensureSyntheticModel({preset: presetName, type: weightType, seed: 1, dir: join(repoRoot, "models")});
const preset = MODEL_PRESETS[presetName];

const topics = ["a heist film", "a musical", "a space opera", "a courtroom drama", "a documentary", "a western", "a romantic comedy", "a horror film"];
const messages = Array.from({length: documentCount}, (_, d) =>
    `Write a ${d % 2 === 0 ? "positive" : "negative"} review of ${topics[d % topics.length]} in two sentences, as JSON with sentiment, spoilers and review.`);
const scratch = mkdtempSync(join(tmpdir(), "orchard-bench-generate-"));
const promptsPath = join(scratch, "messages.json");
writeFileSync(promptsPath, JSON.stringify(messages));

interface ChildResult {mode: string; documents: number; generatedTokens: number; promptTokens: number; seconds: number; tokensPerSecond: number}
const modes = ["plain", "generate", "generate-schema"] as const;
const results = new Map<string, ChildResult[]>();
const child = join(repoRoot, "bench", "generate-bench-child.ts");
try {
    for (let round = 0; round < rounds; round++) {
        // modes interleaved round by round, so a noisy neighbour affects all of them alike
        for (const mode of modes) {
            const result = await runChild<ChildResult>(child, [mode, modelPath, promptsPath, String(threads), values["max-tokens"]]);
            results.set(mode, [...(results.get(mode) ?? []), result]);
            process.stderr.write(`round ${round + 1}/${rounds} ${mode}: ${result.tokensPerSecond.toFixed(1)} generated tok/s (${result.generatedTokens} tokens)\n`);
        }
    }
} finally {
    rmSync(scratch, {recursive: true, force: true});
}

const tps = (mode: string) => median((results.get(mode) ?? []).map((r) => r.tokensPerSecond));
const plain = tps("plain");
const facts = machineFacts();
process.stdout.write(`Orchard generation benchmark  ${facts.cpu} (${facts.cores} cores, ${facts.memoryGiB} GiB), ${facts.platform}, node ${facts.node}, node-llama-cpp ${facts.nodeLlamaCpp}\n`);
process.stdout.write(`model: ${values.model ?? `${presetName} preset ${weightType}`} (E ${preset.embeddingLength}, ${preset.blockCount} layers, F ${preset.feedForwardLength}, 8 experts top-2)\n`);
process.stdout.write(`${documentCount} documents, --max-tokens ${values["max-tokens"]}, temperature/top-k/top-p/min-p defaults, ${threads} threads, median of ${rounds} rounds\n\n`);
printTable(["mode", "generated tok/s", "ms/token", "tokens", "vs plain"], modes.map((mode) => {
    const value = tps(mode);
    return [mode, value.toFixed(1), (1000 / value).toFixed(2), String(results.get(mode)?.[0]?.generatedTokens ?? 0), (value / plain).toFixed(3)];
}));
process.stdout.write("\nplain: node-llama-cpp's LlamaCompletion of the same prompt tokens and sampling. generate: orchard generate's\n" +
    "DocumentGenerator (the chat wrapper's prompt and stop triggers, per-document seed, finish and JSON checks). generate-schema:\n" +
    "the same with a JSON-schema grammar (the grammar's cost).\n" +
    "Seconds include each document's prompt evaluation; completions differ in length between modes, tokens/s does not depend on it.\n\n");
process.stdout.write(JSON.stringify({
    benchmark: "generate",
    machine: facts,
    model: {preset: values.model ?? presetName, type: weightType},
    documents: documentCount,
    maxTokens: Number(values["max-tokens"]),
    threads,
    rounds,
    plainTokensPerSecond: plain,
    generateTokensPerSecond: tps("generate"),
    generateSchemaTokensPerSecond: tps("generate-schema"),
    ratio: tps("generate") / plain,
    schemaRatio: tps("generate-schema") / plain,
    runs: Object.fromEntries(modes.map((mode) => [mode, results.get(mode) ?? []]))
}) + "\n");
