// `npm run bench:extract`: raw prefill vs the extraction engine, at EQUAL parallelism (raw with as
// many contexts as the engine), on documents written here in the shape of two real workloads:
//   --workload sentiment  ~270-token reviews, `Please classify the sentiment...` (today's default prompt)
//   --workload factcheck  single-sentence statements of 20-80 characters, the fact-check tutorial's prompt
// Modes: raw xN (prefill, no outputs), engine xN with --prefix-reuse auto and off, and the
// per-position read-out cost on its own (one context: top-2 read at every position minus plain
// prefill of the same tokens). Prints machine facts, a table, and as its last line one JSON object
// with workload, rawTokensPerSecond, extractTokensPerSecond and ratio (extraction tokens/s, every
// prompt token counted, over raw tokens/s).
//   npm run bench:extract -- [--workload sentiment|factcheck] [--documents N] [--rounds 1] [--threads N] [--contexts 2]
//                            [--preset bench|mixtral-width] [--type f16|q8_0|f32] [--model FILE] [--gpu false|cuda|metal|vulkan|auto] [--three-pass]
import {writeFileSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {buildReaskPrompt, DEFAULT_PROMPT_TEXT, DEFAULT_TRAILING_INSTRUCTION} from "@orchard/shared";
import {ensureSyntheticModel, MODEL_PRESETS, DEFAULT_ENGINE_CONTEXTS, type ModelPresetName, type ModelWeightType} from "@orchard/worker";
import {machineFacts, median, printTable, repoRoot, runChild} from "./bench-support.ts";
import {workloadPrompts, WORKLOADS, type Workload} from "./extract-bench-workloads.ts";

const {values} = parseArgs({options: {
    workload: {type: "string", default: "sentiment"},
    documents: {type: "string"},
    rounds: {type: "string", default: "1"},
    threads: {type: "string"},
    contexts: {type: "string", default: String(DEFAULT_ENGINE_CONTEXTS)},
    preset: {type: "string", default: "bench"},
    model: {type: "string"},
    type: {type: "string"},
    gpu: {type: "string", default: "false"},
    "three-pass": {type: "boolean", default: false}
}});
if (!(WORKLOADS as readonly string[]).includes(values.workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(", ")}`);
const workload = values.workload as Workload;
if (values.preset !== "bench" && values.preset !== "mixtral-width") throw new Error("--preset must be bench or mixtral-width");
const presetName = values.preset as ModelPresetName;
const preset = MODEL_PRESETS[presetName];
// a few minutes a run on the 2-core CPU machine
const documentCount = Number(values.documents ?? (workload === "factcheck" ? 48 : 8));
const rounds = Number(values.rounds);
const threads = Number(values.threads ?? machineFacts().cores);
const contexts = Number(values.contexts);
const weightType = (values.type ?? (presetName === "bench" ? "f16" : "q8_0")) as ModelWeightType;
const modelPath = values.model ?? await ensureSyntheticModel({preset: presetName, type: weightType, seed: 1, dir: join(repoRoot, "models")});

const prompts = workloadPrompts(workload, documentCount);
const scratch = mkdtempSync(join(tmpdir(), "orchard-bench-"));
const documentsPath = join(scratch, "prompts.json");
writeFileSync(documentsPath, JSON.stringify(prompts));

interface ChildResult {
    mode: string; documents: number; tokens: number; seconds: number; tokensPerSecond: number;
    prefixReuse?: {reused: number; full: number}; readoutMsPerPosition?: number; positions?: number;
}
const modes: [key: string, args: string[]][] = [
    [`raw x${contexts}`, ["raw", String(contexts)]],
    [`engine x${contexts}`, ["one-pass", String(contexts), "auto"]],
    [`engine x${contexts} reuse off`, ["one-pass", String(contexts), "off"]],
    // one context of one thread: on a shared machine a second thread's barrier waits would swamp the difference
    ["read-out x1", ["readout", "1"]],
    ...(values["three-pass"] ? [["three-pass x1", ["three-pass", "1", "off"]] as [string, string[]]] : [])
];
const results = new Map<string, ChildResult[]>();
const child = join(repoRoot, "bench", "extract-bench-child.ts");
try {
    for (let round = 0; round < rounds; round++) {
        // modes interleaved round by round, so a noisy neighbour affects all of them alike
        for (const [key, [mode, modeContexts, reuse]] of modes) {
            const modeThreads = mode === "readout" && values.gpu === "false" ? 1 : threads;
            const result = await runChild<ChildResult>(child, [mode as string, modelPath, documentsPath, String(modeThreads), modeContexts as string, values.gpu, reuse ?? "off"]);
            results.set(key, [...(results.get(key) ?? []), result]);
            process.stderr.write(`round ${round + 1}/${rounds} ${key}: ${result.tokensPerSecond.toFixed(1)} tok/s\n`);
        }
    }
} finally {
    rmSync(scratch, {recursive: true, force: true});
}

const tps = (key: string) => median((results.get(key) ?? []).map((r) => r.tokensPerSecond));
const raw = tps(`raw x${contexts}`);
const extract = tps(`engine x${contexts}`);
const extractOff = tps(`engine x${contexts} reuse off`);
const readout = median((results.get("read-out x1") ?? []).map((r) => r.readoutMsPerPosition ?? 0));
const reuse = results.get(`engine x${contexts}`)?.[0]?.prefixReuse;
const E = preset.embeddingLength;
const kv = E * preset.headCountKv / preset.headCount;
const layerMacs = preset.blockCount * (2 * E * E + 2 * E * kv + preset.expertUsedCount * 3 * E * preset.feedForwardLength + 8 * E);
const headMacs = 32000 * E;
const tokensPerDocument = (results.get(`raw x${contexts}`)?.[0]?.tokens ?? 0) / documentCount;

const facts = machineFacts();
process.stdout.write(`Orchard extraction benchmark  ${facts.cpu} (${facts.cores} cores, ${facts.memoryGiB} GiB), ${facts.platform}, node ${facts.node}, node-llama-cpp ${facts.nodeLlamaCpp}, gpu ${values.gpu}\n`);
process.stdout.write(`model: ${values.model ?? `${presetName} preset ${weightType}`} (E ${E}, ${preset.blockCount} layers, F ${preset.feedForwardLength}, 8 experts top-2); LM head = ${(100 * headMacs / (headMacs + layerMacs)).toFixed(1)}% of per-token MACs (real Mixtral: ~1%)\n`);
process.stdout.write(`workload ${workload}: ${documentCount} documents, ~${tokensPerDocument.toFixed(1)} prompt tokens each; ${threads} threads, ${contexts} contexts, median of ${rounds} rounds\n` +
    (reuse === undefined ? "" : `prefix reuse: ${reuse.reused} documents reused their prompt's prefix, ${reuse.full} evaluated in full\n`) + "\n");
printTable(["mode", "tokens/s", "ms/token", "vs raw"], [...results.keys()].filter((key) => !key.startsWith("read-out")).map((key) => {
    const value = tps(key);
    return [key, value.toFixed(1), (1000 / value).toFixed(3), (value / raw).toFixed(3)];
}));
process.stdout.write(`\nread-out (top-2 logits of one position, outside the forward pass; one context${values.gpu === "false" ? ", one thread" : ""}): ${readout.toFixed(3)} ms per position\n` +
    "xN: N contexts sharing the threads, N documents at a time. raw: prefill, no outputs. engine: every prompt token counted, prefix included.\n\n");
process.stdout.write(JSON.stringify({
    benchmark: "extract",
    workload,
    machine: facts,
    gpu: values.gpu,
    model: {preset: values.model ?? presetName, type: weightType, embeddingLength: E, blockCount: preset.blockCount, feedForwardLength: preset.feedForwardLength, headShareOfMacs: headMacs / (headMacs + layerMacs)},
    documents: documentCount,
    tokensPerDocument,
    threads,
    contexts,
    rounds,
    prefixReuse: reuse,
    readoutMsPerPosition: readout,
    extractReuseOffTokensPerSecond: extractOff,
    ratioReuseOff: extractOff / raw,
    modes: Object.fromEntries([...results.keys()].map((key) => [key, tps(key)])),
    rawTokensPerSecond: raw,
    extractTokensPerSecond: extract,
    ratio: extract / raw
}) + "\n");
