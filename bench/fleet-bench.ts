// `npm run bench:fleet`: what the fleet costs and how it scales, in three parts (each measurement in
// a child process, rounds interleaved; machine facts first, then tables, then ONE JSON line):
//   overhead  1 worker through the fleet (a real `orchard worker` process + the coordinator, Redis)
//             vs `orchard extract` on the same input and engine settings: docs/s ratio (goal >= 0.95)
//   scaling   N = 1, 2, 4, 8, 16 simulated workers of mixed speeds (they sleep, so they share 2 cores
//             without skewing each other): throughput vs the sum of the workers' own speeds, and the
//             time to merge the last 5% of documents vs the ideal (goal >= 0.95)
//   scale     a generated dataset (1M short documents), fast simulated workers in one process, the
//             coordinator (the real `orchard run`) in another: enqueue+merge docs/s (goal >= 5,000), coordinator peak RSS
//             (goal < 300 MB), Redis used_memory_peak (goal < 1 GB)
//   npm run bench:fleet -- [--only overhead|scaling|scale] [--rounds 2] [--documents 1000000] [--model-preset bench|tiny]
//     [--overhead-documents N] [--threads N] [--contexts N] [--context-size N] [--shard-size 32]
//     [--scaling-workers 1,2,4,8,16] [--scaling-seconds 20] [--document-ms 25] [--scale-workers 16]
import {spawn} from "node:child_process";
import {once} from "node:events";
import {createReadStream, mkdtempSync, readFileSync, rmSync} from "node:fs";
import {loadavg, tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {EmbeddedRedis} from "@orchard/coordinator";
import {DEFAULT_SHARD_SIZE, readDataset, resolvePromptSettings} from "@orchard/shared";
import {DEFAULT_CONTEXT_SIZE, DEFAULT_ENGINE_CONTEXTS, ensureSyntheticModel, SimulatedShardEngine, tokenizeDocumentPrompt, type ModelPresetName} from "@orchard/worker";
import {Redis} from "ioredis";
import {ORCHARD_BIN, ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {machineFacts, median, printTable, repoRoot, runChild} from "./bench-support.ts";
import type {ChildOptions, EngineSettings, OverheadResult, ScalingResult} from "./fleet-bench-child.ts";
import {idealShardSchedule, procStatus, startBenchChild, writeDataset} from "./fleet-bench-support.ts";

const {values} = parseArgs({options: {
    only: {type: "string"},
    rounds: {type: "string", default: "2"},
    documents: {type: "string", default: "1000000"},
    "model-preset": {type: "string", default: "bench"},
    "overhead-documents": {type: "string"},
    threads: {type: "string"},
    contexts: {type: "string"},
    "context-size": {type: "string"},
    "shard-size": {type: "string"},
    "scaling-workers": {type: "string", default: "1,2,4,8,16"},
    "scaling-seconds": {type: "string", default: "20"},
    "document-ms": {type: "string", default: "25"},
    "scale-workers": {type: "string", default: "16"}
}});
const parts = values.only === undefined ? ["overhead", "scaling", "scale"] : values.only.split(",");
for (const part of parts) if (!["overhead", "scaling", "scale"].includes(part)) throw new Error(`--only takes overhead, scaling or scale (got ${part})`);
const preset = values["model-preset"] as ModelPresetName;
if (preset !== "bench" && preset !== "tiny") throw new Error(`--model-preset takes bench or tiny (got ${preset})`);
const rounds = int("rounds");
const shardSize = values["shard-size"] === undefined ? DEFAULT_SHARD_SIZE : int("shard-size");
const facts = machineFacts();
const engine: EngineSettings = {
    threads: values.threads === undefined ? facts.cores : int("threads"),
    contexts: values.contexts === undefined ? DEFAULT_ENGINE_CONTEXTS : int("contexts"),
    contextSize: values["context-size"] === undefined ? DEFAULT_CONTEXT_SIZE : int("context-size")
};
/** Speeds of the simulated workers, as multiples of the base speed: worker i gets FACTORS[i] (mean 1.0 over 16). */
const FACTORS = [1.0, 0.5, 1.5, 0.75, 1.25, 0.6, 1.4, 0.9, 1.1, 0.7, 1.3, 0.8, 1.2, 0.55, 1.45, 1.0];
const child = join(repoRoot, "bench", "fleet-bench-child.ts");
const work = mkdtempSync(join(tmpdir(), "orchard-fleet-bench-"));
const modelsDir = join(repoRoot, "models");
const tinyModel = await ensureSyntheticModel({preset: "tiny", type: "f16", seed: 1, dir: modelsDir});
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg().map((value) => Number(value.toFixed(2)));

process.stdout.write(`Orchard fleet benchmark  ${facts.cpu} (${facts.cores} cores, ${facts.memoryGiB} GiB), ${facts.platform}, node ${facts.node}, ` +
    `node-llama-cpp ${facts.nodeLlamaCpp}, load average ${load().join(" ")}\n`);
process.stdout.write(`parts: ${parts.join(", ")}; rounds ${rounds} (median; the scale part runs once), shard size ${shardSize}; Redis: embedded redis-server (AOF everysec), one per part\n\n`);

const report: Record<string, unknown> = {benchmark: "fleet", machine: facts, loadAverageStart: load(), rounds, shardSize};
const goals: {goal: string; value: number; target: string; met: boolean}[] = [];
try {
    if (parts.includes("overhead")) report["overhead"] = await overheadPart();
    if (parts.includes("scaling")) report["scaling"] = await scalingPart();
    if (parts.includes("scale")) report["scale"] = await scalePart();
} finally {
    rmSync(work, {recursive: true, force: true});
}
process.stdout.write("goals\n");
printTable(["goal", "measured", "target", "met"], goals.map((g) => [g.goal, fmt(g.value), g.target, g.met ? "yes" : "NO"]));
process.stdout.write("\n");
process.stdout.write(JSON.stringify({...report, loadAverageEnd: load(), goals}) + "\n");

function int(name: keyof typeof values): number {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer (got ${String(values[name])})`);
    return value;
}

function fmt(value: number): string {
    return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(3);
}

async function withRedis<T>(name: string, body: (redis: EmbeddedRedis) => Promise<T>): Promise<T> {
    const redis = await EmbeddedRedis.start({stateDir: join(work, `${name}-state`)});
    try {
        return await body(redis);
    } finally {
        await redis.stop();
    }
}

/** `orchard extract` vs one fleet worker, same input and engine settings, sides alternating round by round. */
async function overheadPart() {
    const modelType = "f16";
    const model = await ensureSyntheticModel({preset, type: modelType, seed: 1, dir: modelsDir});
    const documents = values["overhead-documents"] === undefined ? (preset === "bench" ? 96 : 640) : int("overhead-documents");
    const input = join(work, "overhead.jsonl");
    // short reviews of 40-79 words (~90-150 tokens with the re-ask prompt)
    await writeDataset(input, documents, (i) => 40 + ((i * 17) % 40));
    log(`overhead: ${documents} documents, ${preset} model (${modelType}), ${engine.threads} threads, ${engine.contexts} contexts, context ${engine.contextSize}`);
    const results: Record<"extract" | "fleet", OverheadResult[]> = {extract: [], fleet: []};
    let identical = true;
    await withRedis("overhead", async (redis) => {
        for (let round = 0; round < rounds; round++) {
            // alternate which side goes first: a neighbour's load drifting over time hits both alike
            const order: ("extract" | "fleet")[] = round % 2 === 0 ? ["extract", "fleet"] : ["fleet", "extract"];
            const outputs: Partial<Record<"extract" | "fleet", string>> = {};
            for (const side of order) {
                const outputDir = mkdtempSync(join(work, `${side}-`));
                const options: ChildOptions = {model, input, outputDir, engine, shardSize, redisUrl: redis.url, keyPrefix: `bench-overhead-${round}`};
                const result = await runChild<OverheadResult>(child, [side, JSON.stringify(options)]);
                results[side].push(result);
                outputs[side] = readFileSync(result.output, "utf8");
                log(`  round ${round + 1}/${rounds} ${side}: ${(result.documents / result.processingSeconds).toFixed(3)} docs/s (${result.processingSeconds.toFixed(1)} s, ${result.totalSeconds.toFixed(1)} s with start-up)`);
            }
            identical &&= outputs.extract === outputs.fleet;
        }
    });
    const rate = (side: "extract" | "fleet", key: "processingSeconds" | "totalSeconds") => median(results[side].map((r) => r.documents / r[key]));
    const extract = rate("extract", "processingSeconds");
    const fleet = rate("fleet", "processingSeconds");
    const tokensPerDocument = (results.extract[0]?.tokens ?? 0) / documents;
    process.stdout.write(`overhead: ${documents} documents of ~${tokensPerDocument.toFixed(0)} tokens, ${preset} model (${modelType}), ${engine.threads} threads, ` +
        `${engine.contexts} contexts, shard size ${shardSize}, median of ${rounds} rounds\n`);
    printTable(["side", "docs/s", "tokens/s", "vs extract", "docs/s incl. start-up", "vs extract"], (["extract", "fleet"] as const).map((side) => [
        side === "extract" ? "orchard extract" : "fleet, 1 worker", rate(side, "processingSeconds").toFixed(3),
        (rate(side, "processingSeconds") * tokensPerDocument).toFixed(1), (rate(side, "processingSeconds") / extract).toFixed(3),
        rate(side, "totalSeconds").toFixed(3), (rate(side, "totalSeconds") / rate("extract", "totalSeconds")).toFixed(3)
    ]));
    // each round's two sides ran back to back: their ratio is what a drifting neighbour disturbs least
    const paired = results.fleet.map((f, i) => {
        const e = results.extract[i] as OverheadResult;
        return (f.documents / f.processingSeconds) / (e.documents / e.processingSeconds);
    });
    const ratio = median(paired);
    const coordinatorCpu = median(results.fleet.map((f) => (f.coordinatorCpuSeconds ?? 0) / f.processingSeconds));
    // the same work on both sides? (CPU of the process holding the engine, per document)
    const engineCpu = (side: "extract" | "fleet") => median(results[side].map((r) => r.engineCpuSeconds / r.documents));
    // the fleet's own time: processing with no shard in progress on the worker (start, hand-overs, merge of the last)
    const fleetGap = median(results.fleet.map((f) => f.processingSeconds - (f.workerBusySeconds ?? 0)));
    process.stdout.write(`fleet / extract per round: ${paired.map((r) => r.toFixed(3)).join(", ")} (median ${ratio.toFixed(3)}); ` +
        `fleet time with no shard in progress on the worker: ${fleetGap.toFixed(2)} s; the coordinator used ${(100 * coordinatorCpu).toFixed(1)}% of one core meanwhile; ` +
        `engine CPU per document: extract ${engineCpu("extract").toFixed(3)} s, fleet worker ${engineCpu("fleet").toFixed(3)} s. ` +
        `outputs byte-identical: ${identical ? "yes" : "NO"}.\n` +
        "docs/s: first document to last line (extract: after model load and validation; fleet: worker joined, coordinator scan included). " +
        "incl. start-up: plus model load (fleet: plus the worker process's start).\n\n");
    goals.push({goal: "overhead: fleet / extract docs/s (median per round)", value: ratio, target: ">= 0.95", met: ratio >= 0.95});
    return {
        model: {preset, type: modelType}, documents, tokensPerDocument, engine, identical,
        extractDocumentsPerSecond: extract, fleetDocumentsPerSecond: fleet, ratio, ratioOfMedians: fleet / extract, pairedRatios: paired,
        coordinatorCpuShareOfOneCore: coordinatorCpu, fleetSecondsOutsideShards: fleetGap,
        engineCpuSecondsPerDocument: {extract: engineCpu("extract"), fleet: engineCpu("fleet")},
        extractWithStartupDocumentsPerSecond: rate("extract", "totalSeconds"), fleetWithStartupDocumentsPerSecond: rate("fleet", "totalSeconds"),
        ratioWithStartup: rate("fleet", "totalSeconds") / rate("extract", "totalSeconds"), runs: results
    };
}

async function scalingPart() {
    const counts = (values["scaling-workers"] ?? "").split(",").map(Number);
    if (counts.some((n) => !Number.isInteger(n) || n <= 0 || n > FACTORS.length)) throw new Error(`--scaling-workers: 1 to ${FACTORS.length} each`);
    const seconds = int("scaling-seconds");
    const documentMs = int("document-ms");
    const wordsOf = () => 24;
    const tokensPerDocument = await simulatedTokensPerDocument(wordsOf);
    const baseDocsPerSecond = 1000 / documentMs;
    const plans = counts.map((n) => {
        const factors = FACTORS.slice(0, n);
        const nominal = factors.reduce((sum, f) => sum + f, 0) * baseDocsPerSecond;
        const documents = Math.ceil(seconds * nominal / shardSize) * shardSize;
        return {n, documents, speeds: factors.map((f) => f * baseDocsPerSecond * tokensPerDocument), input: join(work, `scaling-${n}.jsonl`)};
    });
    for (const plan of plans) await writeDataset(plan.input, plan.documents, wordsOf);
    log(`scaling: N = ${counts.join(", ")} simulated workers, ${tokensPerDocument.toFixed(1)} tokens and ${documentMs} ms per document at base speed, ~${seconds} s per run`);
    const results = new Map<number, ScalingResult[]>();
    await withRedis("scaling", async (redis) => {
        for (let round = 0; round < rounds; round++) {
            for (const plan of plans) {
                const options: ChildOptions = {
                    model: tinyModel, input: plan.input, outputDir: mkdtempSync(join(work, "scaling-out-")), redisUrl: redis.url,
                    keyPrefix: `bench-scaling-${round}-${plan.n}`, shardSize, speeds: plan.speeds
                };
                const result = await runChild<ScalingResult>(child, ["scaling", JSON.stringify(options)]);
                if (result.status !== "completed") throw new Error(`scaling N=${plan.n}: run ended ${result.status}`);
                results.set(plan.n, [...(results.get(plan.n) ?? []), result]);
                const derived = deriveScaling(result);
                log(`  round ${round + 1}/${rounds} N=${plan.n}: ${derived.documentsPerSecond.toFixed(1)} docs/s, ${derived.ratio.toFixed(3)} of the workers' sum, tail ${derived.tailSeconds.toFixed(2)} s`);
            }
        }
    });
    const rows = plans.map((plan) => {
        const derived = (results.get(plan.n) ?? []).map(deriveScaling);
        const pick = (key: keyof ReturnType<typeof deriveScaling>) => median(derived.map((d) => d[key]));
        return {
            workers: plan.n, documents: plan.documents, speedsTokensPerSecond: plan.speeds,
            nominalDocumentsPerSecond: pick("nominal"), idealDocumentsPerSecond: pick("ideal"), steadyDocumentsPerSecond: pick("steadyDocumentsPerSecond"),
            ratio: pick("ratio"), ratioToNominal: pick("ratioToNominal"), wholeRunDocumentsPerSecond: pick("documentsPerSecond"),
            wholeRunRatio: pick("wholeRunRatio"), wholeRunRatioToShardSchedule: pick("ratioToSchedule"),
            tailSeconds: pick("tailSeconds"), idealTailSeconds: pick("idealTail"), shardScheduleTailSeconds: pick("scheduleTail"),
            tailRatio: pick("tailRatio"), tailBeyondShardScheduleSeconds: pick("tailBeyondSchedule"), scanSeconds: pick("scanSeconds")
        };
    });
    process.stdout.write(`scaling: simulated workers of mixed speeds (x${FACTORS.slice(0, Math.max(...counts)).join(", x")} of ${baseDocsPerSecond} docs/s), ` +
        `${tokensPerDocument.toFixed(1)} tokens per document, ~${seconds} s of ideal work per run, coordinator and workers in one process, median of ${rounds} rounds\n`);
    const ratio = (value: number) => (value > 9.99 ? ">9.99" : value.toFixed(3));
    printTable(["workers", "docs", "ideal docs/s", "docs/s", "vs ideal", "vs nominal", "whole run", "vs ideal", "vs shard sched.", "tail s", "ideal tail s", "ideal/meas.", "sched. tail s", "beyond sched. s"],
        rows.map((r) => [r.workers, r.documents, r.idealDocumentsPerSecond.toFixed(1), r.steadyDocumentsPerSecond.toFixed(1), r.ratio.toFixed(3),
            r.ratioToNominal.toFixed(3), r.wholeRunDocumentsPerSecond.toFixed(1), r.wholeRunRatio.toFixed(3), r.wholeRunRatioToShardSchedule.toFixed(3),
            r.tailSeconds.toFixed(2), r.idealTailSeconds.toFixed(2), ratio(r.tailRatio), r.shardScheduleTailSeconds.toFixed(2), r.tailBeyondShardScheduleSeconds.toFixed(2)]));
    process.stdout.write("ideal: the sum of the workers' own speeds (documents / busy time of their shards); nominal: of the configured speeds (timer latency " +
        "makes the simulation a little slower). docs/s: the first 95% of the documents, run started (input scanned) -> 95% merged; whole run: to the last line. " +
        "shard sched.: the best possible with the coordinator's shards (tapered near the end; each free worker takes the next shard at once, in-order merge, no overhead). " +
        "tail: the last 5% of the documents (95% merged -> last line; 0 when one merge step covers both); ideal: 5% at the ideal speed; " +
        "sched.: that schedule's tail, and how much longer the fleet's was.\n\n");
    const worst = rows.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    goals.push({goal: `scaling: throughput / ideal (worst, N=${worst.workers})`, value: worst.ratio, target: ">= 0.95", met: worst.ratio >= 0.95});
    const worstTail = rows.reduce((a, b) => (b.tailRatio < a.tailRatio ? b : a));
    goals.push({goal: `scaling: ideal / measured tail (worst, N=${worstTail.workers})`, value: worstTail.tailRatio, target: ">= 0.95", met: worstTail.tailRatio >= 0.95});

    return {tokensPerDocument, documentMs, factors: FACTORS.slice(0, Math.max(...counts)), seconds, rows, runs: Object.fromEntries(results)};
}

function deriveScaling(result: ScalingResult) {
    const perDocument = result.tokens / result.documents;
    const nominalSpeeds = result.workers.map((w) => w.tokensPerSecond / perDocument);
    // a worker's own speed: documents over the time its shards took (timer latency included, fleet waits excluded)
    const ownSpeeds = result.workers.map((w, i) => (w.busyMs > 0 ? w.documents / (w.busyMs / 1000) : nominalSpeeds[i] as number));
    const nominal = nominalSpeeds.reduce((sum, s) => sum + s, 0);
    const ideal = ownSpeeds.reduce((sum, s) => sum + s, 0);
    const runSeconds = result.endSeconds - result.startedSeconds;
    const documentsPerSecond = result.documents / runSeconds;
    // the steady state: the first 95% of the documents (the last 5% is the tail, measured on its own)
    const steadyDocumentsPerSecond = result.mark95Documents / (result.mark95Seconds - result.startedSeconds);
    const schedule = idealShardSchedule(result.documents, shardSize, ownSpeeds, result.mark95);
    const tailSeconds = result.endSeconds - result.mark95Seconds;
    const idealTail = (result.documents - result.mark95 + 1) / ideal;
    const scheduleTail = schedule.endSeconds - schedule.markSeconds;
    return {
        nominal, ideal, documentsPerSecond, steadyDocumentsPerSecond, ratio: steadyDocumentsPerSecond / ideal, wholeRunRatio: documentsPerSecond / ideal,
        ratioToNominal: steadyDocumentsPerSecond / nominal,
        ratioToSchedule: schedule.endSeconds / runSeconds, tailSeconds, idealTail, scheduleTail,
        tailRatio: idealTail / Math.max(tailSeconds, 1e-3), tailBeyondSchedule: tailSeconds - scheduleTail, scanSeconds: result.startedSeconds
    };
}

/** Tokens per document as the simulated engine counts them (BOS + one per 4 bytes of the re-ask prompt). */
async function simulatedTokensPerDocument(wordsOf: (index: number) => number): Promise<number> {
    const sample = join(work, "tokens-sample.jsonl");
    await writeDataset(sample, 200, wordsOf);
    const settings = resolvePromptSettings({});
    const tokenizer = new SimulatedShardEngine({tokensPerSecond: 1});
    let tokens = 0;
    let documents = 0;
    for await (const prepared of readDataset(sample, settings)) {
        tokens += tokenizeDocumentPrompt(prepared, settings.trailingInstruction, (text) => tokenizer.tokenizePrompt(text), {contextSize: 1 << 20, truncate: false, file: sample}).tokens.length;
        documents++;
    }
    return tokens / documents;
}

/** A million short documents through the coordinator (its own process) with fast simulated workers (one other process). */
async function scalePart() {
    const documents = int("documents");
    const workerCount = int("scale-workers");
    const input = join(work, "scale.jsonl");
    const generated = performance.now();
    const {bytes} = await writeDataset(input, documents, (i) => 6 + (i % 7));
    log(`scale: generated ${documents} documents (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - generated) / 1000).toFixed(1)} s; ${workerCount} fast simulated workers`);
    return withRedis("scale", async (redis) => {
        // as fast as the simulation goes: a setTimeout per document (~1 ms), one document at a time per worker
        const common = {model: tinyModel, redisUrl: redis.url, keyPrefix: "bench-scale", shardSize, speeds: [1e9]};
        const fleet = startBenchChild<{shards: number; documents: number}>(child, ["workers", JSON.stringify({...common, count: workerCount})]);
        await fleet.ready;
        const outputDir = join(work, "scale-out");
        // the coordinator is the real `orchard run` (what a user's `npx orchard` starts: its node flags too), its
        // memory read from /proc: VmHWM is the kernel's own peak, sampled until the process is gone
        const coordinator = spawn(process.execPath, [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "run", "--model", tinyModel, "--input", input,
            "--output-dir", outputDir, "--state-dir", join(outputDir, ".orchard"), "--redis", redis.url, "--redis-prefix", "bench-scale", "--local-workers", "0", "--shard-size", String(shardSize),
            "--simulate-tokens-per-second", "1000000000", "--overwrite", "--log-format", "json", "--log-level", "warn"], {cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"]});
        const launched = performance.now();
        let stdout = "";
        let stderr = "";
        let runStarted = 0;
        coordinator.stdout.setEncoding("utf8").on("data", (data: string) => {
            stdout += data;
            if (runStarted === 0 && /Run \S+ \(new\)/.test(stdout)) runStarted = performance.now();
        });
        coordinator.stderr.setEncoding("utf8").on("data", (data: string) => (stderr = (stderr + data).slice(-20_000)));
        const memory = {vmHwm: 0, sampledPeak: 0, atRunStart: 0, peakAtSeconds: 0};
        const sampler = setInterval(() => void procStatus(coordinator.pid as number).then((status) => {
            if (status === undefined) return;
            memory.vmHwm = Math.max(memory.vmHwm, status["VmHWM"] ?? 0);
            const rss = status["VmRSS"] ?? 0;
            // once the scan is over and the run created: the runtime, what `orchard run` loads, the scan's leftovers
            if (runStarted !== 0 && memory.atRunStart === 0) memory.atRunStart = rss;
            if (rss > memory.sampledPeak) Object.assign(memory, {sampledPeak: rss, peakAtSeconds: (performance.now() - launched) / 1000});
        }), 50);
        let exitCode: number | null;
        try {
            [exitCode] = await once(coordinator, "exit") as [number | null];
        } finally {
            clearInterval(sampler);
            fleet.process.kill("SIGTERM");
        }
        const finished = performance.now();
        if (exitCode !== 0) throw new Error(`scale: orchard run exited with ${exitCode}: ${stderr.slice(-3000)}`);
        const result = {
            status: /Run \S+ (\w+) in/.exec(stdout)?.[1] ?? "unknown", scanSeconds: (runStarted - launched) / 1000, runSeconds: (finished - runStarted) / 1000,
            totalSeconds: (finished - launched) / 1000, vmHwmBytes: memory.vmHwm
        };
        const workerStats = await fleet.result;
        const client = new Redis(redis.url, {maxRetriesPerRequest: 1});
        const info = await client.info("memory").finally(() => client.disconnect());
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? NaN);
        const redisPeak = field("used_memory_peak");
        const redisRssPeak = (await procStatus(redis.pid))?.["VmHWM"] ?? NaN;
        let lines = 0;
        for await (const chunk of createReadStream(join(outputDir, "scale.jsonl.attributes.jsonl")))
            for (const byte of chunk as Buffer) if (byte === 10) lines++;
        if (result.status !== "completed" || lines !== documents) throw new Error(`scale: run ${result.status}, ${lines} of ${documents} lines in the output`);
        const runRate = documents / result.runSeconds;
        const mib = (value: number) => (value / 2 ** 20).toFixed(1);
        process.stdout.write(`scale: ${documents} documents (${mib(bytes)} MiB), shard size ${shardSize}, ${workerCount} simulated workers (~1 ms per document each) in one process, ` +
            "coordinator in its own process, embedded Redis (AOF everysec)\n");
        printTable(["measure", "value"], [
            ["start + input scan (validate + hash), s", result.scanSeconds.toFixed(1)],
            ["scan docs/s", (documents / result.scanSeconds).toFixed(0)],
            ["enqueue + merge, s", result.runSeconds.toFixed(1)],
            ["enqueue + merge docs/s", runRate.toFixed(0)],
            ["end-to-end docs/s (scan included)", (documents / result.totalSeconds).toFixed(0)],
            ["coordinator (orchard run) peak RSS (VmHWM), MiB", mib(result.vmHwmBytes)],
            ["coordinator RSS sampled peak (every 50 ms), MiB", mib(memory.sampledPeak)],
            ["  RSS when the run was created (scan over), MiB", mib(memory.atRunStart)],
            ["  sampled peak reached at, s (scan ended at)", `${memory.peakAtSeconds.toFixed(1)} (${result.scanSeconds.toFixed(1)})`],
            ["Redis used_memory_peak, MiB", mib(redisPeak)],
            ["redis-server peak RSS (VmHWM), MiB", mib(redisRssPeak)],
            ["output lines", String(lines)]
        ]);
        process.stdout.write("\n");
        goals.push({goal: "scale: enqueue+merge docs/s", value: runRate, target: ">= 5000", met: runRate >= 5000});
        goals.push({goal: "scale: coordinator peak RSS, MB", value: result.vmHwmBytes / 1e6, target: "< 300", met: result.vmHwmBytes < 300e6});
        goals.push({goal: "scale: Redis used_memory_peak, MB", value: redisPeak / 1e6, target: "< 1000", met: redisPeak < 1e9});
        return {
            documents, inputBytes: bytes, workers: workerCount, workerStats, scanSeconds: result.scanSeconds, runSeconds: result.runSeconds,
            totalSeconds: result.totalSeconds, enqueueMergeDocumentsPerSecond: runRate, endToEndDocumentsPerSecond: documents / result.totalSeconds,
            coordinatorPeakRssBytes: result.vmHwmBytes, coordinatorSampledPeakRssBytes: memory.sampledPeak, coordinatorRssAtRunStartBytes: memory.atRunStart,
            coordinatorSampledPeakAtSeconds: memory.peakAtSeconds, redisUsedMemoryPeakBytes: redisPeak, redisPeakRssBytes: redisRssPeak
        };
    });
}
