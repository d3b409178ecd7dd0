// One measurement of bench/fleet-bench.ts, in its own process. Prints its result as one JSON line
// (long-lived modes print a `{"ready": ...}` line first). Usage: fleet-bench-child.ts <mode> <json options>
//   extract      `orchard extract`'s job (runExtract) over the input
//   fleet        one `orchard worker` process (the real CLI) + the coordinator in this process
//   scaling      N simulated workers + the coordinator, all in this process (the workers sleep)
//   workers      fast simulated workers until SIGTERM (the scale part's fleet)
// The packages are imported per mode: each mode loads only what it uses.
import {spawn} from "node:child_process";
import {once} from "node:events";
import {readFile} from "node:fs/promises";
import {join} from "node:path";
import type {RunSummary} from "@orchard/coordinator";
import type {FleetWorker} from "@orchard/worker";
import {ORCHARD_BIN, ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {repoRoot} from "./bench-support.ts";
import {MergeTimeline, procStatus} from "./fleet-bench-support.ts";

export interface EngineSettings {
    readonly threads: number;
    readonly contexts: number;
    readonly contextSize: number;
}

export interface ChildOptions {
    readonly model: string;
    readonly input?: string;
    readonly outputDir?: string;
    readonly redisUrl?: string;
    readonly keyPrefix?: string;
    readonly engine?: EngineSettings;
    readonly shardSize?: number;
    /** Simulated workers' speeds, tokens/s (scaling: one worker each; workers: `count` of speeds[0]). */
    readonly speeds?: readonly number[];
    readonly count?: number;
}

/** The overhead part's measurement of either side. */
export interface OverheadResult {
    readonly side: "extract" | "fleet";
    readonly documents: number;
    readonly tokens: number;
    /** From the first document to the last line written (extract: after model load and validation; fleet: worker ready, coordinator started). */
    readonly processingSeconds: number;
    /** Including model load (and, for the fleet, the worker process's start). */
    readonly totalSeconds: number;
    /** CPU seconds of the process holding the engine while processing (extract: this one; fleet: the worker's). */
    readonly engineCpuSeconds: number;
    /** Fleet: CPU seconds the coordinator (this process) used while processing. */
    readonly coordinatorCpuSeconds?: number;
    /** Fleet: seconds during which the worker had a shard in progress, by its own log (the union of its shards' spans: it holds 2 at once). */
    readonly workerBusySeconds?: number;
    readonly output: string;
}

export interface WorkerTally {
    readonly tokensPerSecond: number;
    shards: number;
    documents: number;
    tokens: number;
    busyMs: number;
}

export interface ScalingResult {
    readonly documents: number;
    readonly tokens: number;
    /** Seconds since runCoordinator was called: the run started (input scanned), 95% merged, all merged, returned. */
    readonly startedSeconds: number;
    readonly mark95: number;
    readonly mark95Seconds: number;
    /** Documents merged when 95% was first reached (a merge step may go past it). */
    readonly mark95Documents: number;
    readonly endSeconds: number;
    readonly returnedSeconds: number;
    readonly workers: readonly WorkerTally[];
    readonly status: RunSummary["status"];
}

const [mode, json] = process.argv.slice(2) as [string, string];
const options = JSON.parse(json ?? "{}") as ChildOptions;
const required = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`${mode}: option ${name} is required`);
    return value;
};

switch (mode) {
    case "extract": print(await extractSide()); break;
    case "fleet": print(await fleetSide()); break;
    case "scaling": print(await scaling()); break;
    case "workers": print(await workers()); break;
    default: throw new Error(`unknown mode ${mode}`);
}

function print(result: unknown): void {
    process.stdout.write(JSON.stringify(result) + "\n");
}

async function extractSide(): Promise<OverheadResult> {
    const {runExtract} = await import("@orchard/worker");
    const engine = required(options.engine, "engine");
    const output = join(required(options.outputDir, "outputDir"), "extract.jsonl");
    const started = performance.now();
    let cpu = process.cpuUsage();
    const summary = await runExtract({
        modelPath: options.model, inputPath: required(options.input, "input"), outputPath: output, overwrite: true,
        engine: {...engine, gpu: false}
    }, {onStart: () => (cpu = process.cpuUsage())});
    const used = process.cpuUsage(cpu);
    return {
        side: "extract", documents: summary.documents, tokens: summary.tokens, processingSeconds: summary.seconds,
        totalSeconds: (performance.now() - started) / 1000, engineCpuSeconds: (used.user + used.system) / 1e6, output
    };
}

async function fleetSide(): Promise<OverheadResult> {
    const {outputPaths, runCoordinator} = await import("@orchard/coordinator");
    const engine = required(options.engine, "engine");
    const redisUrl = required(options.redisUrl, "redisUrl");
    const keyPrefix = required(options.keyPrefix, "keyPrefix");
    const input = required(options.input, "input");
    const outputDir = required(options.outputDir, "outputDir");
    const started = performance.now();
    // the real `orchard worker`, as `orchard run --local-workers 1` starts it: its own process
    const worker = spawn(process.execPath, [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "worker", "--model", options.model, "--redis", redisUrl,
        "--redis-prefix", keyPrefix, "--name", "bench-worker", "--threads", String(engine.threads), "--contexts", String(engine.contexts),
        "--context-size", String(engine.contextSize), "--gpu", "false", "--log-format", "json"], {cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"]});
    let workerStdout = "";
    worker.stdout.setEncoding("utf8").on("data", (data: string) => (workerStdout += data));
    // the worker's own time on its shards, from its JSON log lines ("shard done", ms)
    const shardSpans: [number, number][] = [];
    await new Promise<void>((resolve, reject) => {
        let log = "";
        let partial = "";
        worker.stderr.setEncoding("utf8").on("data", (data: string) => {
            log += data;
            if (log.includes("joined the fleet")) resolve();
            if (log.length > 100_000) log = log.slice(-10_000);
            const lines = (partial + data).split("\n");
            partial = lines.pop() ?? "";
            for (const line of lines) {
                if (!line.includes("\"shard done\"")) continue;
                const {ms, time} = JSON.parse(line) as {ms?: number; time?: number};
                if (ms !== undefined && time !== undefined) shardSpans.push([time - ms, time]);
            }
        });
        worker.once("exit", (code) => reject(new Error(`orchard worker exited with ${code} before joining: ${log.slice(-2000)}`)));
    });
    const ready = performance.now();
    const cpu = process.cpuUsage();
    const workerCpu = await cpuSecondsOf(worker.pid as number);
    let summary: RunSummary;
    let finished: number;
    let used: NodeJS.CpuUsage;
    let engineCpuSeconds: number;
    try {
        summary = await runCoordinator({
            modelPath: options.model, inputPaths: [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl, keyPrefix, localWorkers: 0, overwrite: true,
            contextSize: engine.contextSize, ...(options.shardSize === undefined ? {} : {shardSize: options.shardSize})
        });
        finished = performance.now();
        used = process.cpuUsage(cpu);
        engineCpuSeconds = await cpuSecondsOf(worker.pid as number) - workerCpu;
    } finally {
        worker.kill("SIGTERM");
        if (worker.exitCode === null) await once(worker, "exit");
    }
    if (summary.status !== "completed") throw new Error(`the fleet run ended ${summary.status}`);
    const tokens = Number(/(\d+) tokens/.exec(workerStdout)?.[1] ?? 0);
    return {
        side: "fleet", documents: summary.mergedDocuments, tokens, processingSeconds: (finished - ready) / 1000,
        totalSeconds: (finished - started) / 1000, coordinatorCpuSeconds: (used.user + used.system) / 1e6, engineCpuSeconds,
        workerBusySeconds: unionSeconds(shardSpans), output: outputPaths([input], outputDir)[0] as string
    };
}

/** N simulated workers (one speed each) and the coordinator in this process; merge times from the output file. */
async function scaling(): Promise<ScalingResult> {
    const [{outputPaths, runCoordinator}, {startFleetWorker}] = await Promise.all([import("@orchard/coordinator"), import("@orchard/worker")]);
    const speeds = required(options.speeds, "speeds");
    const redisUrl = required(options.redisUrl, "redisUrl");
    const keyPrefix = required(options.keyPrefix, "keyPrefix");
    const input = required(options.input, "input");
    const outputDir = required(options.outputDir, "outputDir");
    const tallies: WorkerTally[] = speeds.map((tokensPerSecond) => ({tokensPerSecond, shards: 0, documents: 0, tokens: 0, busyMs: 0}));
    const fleet = await Promise.all(speeds.map((tokensPerSecond, i) => startFleetWorker({
        modelPath: options.model, redisUrl, keyPrefix, name: `sim${i + 1}`, simulatedEngine: {tokensPerSecond},
        onShard: (event) => {
            if (event.type !== "completed") return;
            const tally = tallies[i] as WorkerTally;
            tally.shards++;
            tally.documents += event.documents;
            tally.tokens += event.tokens;
            tally.busyMs += event.elapsedMs;
        }
    })));
    const documents = (await readFile(input, "utf8")).split("\n").filter((line) => line.trim() !== "").length;
    const mark95 = Math.ceil(documents * 0.95);
    const origin = performance.now();
    const timeline = new MergeTimeline(outputPaths([input], outputDir)[0] as string, origin, [mark95, documents]);
    let startedSeconds = 0;
    let summary: RunSummary;
    try {
        summary = await runCoordinator({
            modelPath: options.model, inputPaths: [input], outputDir, stateDir: join(outputDir, ".orchard"), redisUrl, keyPrefix, localWorkers: 0, overwrite: true,
            simulatedEngine: {tokensPerSecond: speeds[0] as number}, ...(options.shardSize === undefined ? {} : {shardSize: options.shardSize}),
            onEvent: (event) => {
                if (event.type === "started") startedSeconds = (performance.now() - origin) / 1000;
            }
        });
    } finally {
        await Promise.all(fleet.map((worker) => worker.close()));
    }
    const returnedSeconds = (performance.now() - origin) / 1000;
    const reached = await timeline.stop();
    return {
        documents, tokens: tallies.reduce((sum, tally) => sum + tally.tokens, 0), startedSeconds, mark95,
        mark95Seconds: reached.get(mark95)?.seconds ?? returnedSeconds, mark95Documents: reached.get(mark95)?.lines ?? documents,
        endSeconds: reached.get(documents)?.seconds ?? returnedSeconds, returnedSeconds,
        workers: tallies, status: summary.status
    };
}

/** `count` fast simulated workers in this process, until SIGTERM. */
async function workers(): Promise<{shards: number; documents: number}> {
    const {startFleetWorker} = await import("@orchard/worker");
    const speeds = required(options.speeds, "speeds");
    const count = required(options.count, "count");
    const fleet: FleetWorker[] = await Promise.all(Array.from({length: count}, (_, i) => startFleetWorker({
        modelPath: options.model, redisUrl: required(options.redisUrl, "redisUrl"), keyPrefix: required(options.keyPrefix, "keyPrefix"),
        name: `fast${i + 1}`, simulatedEngine: {tokensPerSecond: speeds[0] as number}
    })));
    process.stdout.write(JSON.stringify({ready: true, workers: count}) + "\n");
    await once(process, "SIGTERM");
    await Promise.all(fleet.map((worker) => worker.close()));
    return {shards: fleet.reduce((sum, w) => sum + w.stats.shards, 0), documents: fleet.reduce((sum, w) => sum + w.stats.documents, 0)};
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
async function cpuSecondsOf(pid: number): Promise<number> {
    const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).replace(/^.*\) /s, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Seconds covered by at least one of these [start, end] spans (ms). */
function unionSeconds(spans: [number, number][]): number {
    let covered = 0;
    let reach = -Infinity;
    for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
        if (end <= reach) continue;
        covered += end - Math.max(start, reach);
        reach = end;
    }
    return covered / 1000;
}
