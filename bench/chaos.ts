// `npm run chaos`: a long fleet run under a seeded random schedule of faults (issue 13), then a
// byte-for-byte comparison of its output with a fault-free reference, a look at what the runs left in
// Redis, a table of the faults by kind and ONE JSON line:
//   {faults: {kind: count}, documents, identical, lost, duplicated, seconds}
//   npm run chaos -- [--minutes 10] [--workers 4] [--engine sim|tiny] [--seed S] [--documents N] [--keep]
// (--documents: default a third of what the workers do in --minutes at full speed; --keep: keep the work folder)
// The soak runs its own redis-server (appendonly yes, appendfsync always) in this machine's network
// namespace; each worker runs in a network namespace of its own, joined to Redis by a veth pair, so
// that a partition (the pair's host end set down) cuts one worker off while it keeps computing. Without
// root or `ip`, it says so and runs every other fault with the workers on loopback. The schedule is a
// pure function of the seed (printed): a failure replays with the same --seed.
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {once} from "node:events";
import {closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync} from "node:fs";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {basename, join} from "node:path";
import {parseArgs} from "node:util";
import {settleWithin} from "@orchard/shared";
import {ensureSyntheticModel} from "@orchard/worker";
import {Redis} from "ioredis";
import {ORCHARD_BIN, ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {printTable, repoRoot} from "./bench-support.ts";
import {writeDataset} from "./fleet-bench-support.ts";
import {chaosSchedule, FAULT_KINDS, type ChaosEvent, type FaultKind} from "./chaos-schedule.ts";

const {values} = parseArgs({options: {
    minutes: {type: "string", default: "10"},
    workers: {type: "string", default: "4"},
    engine: {type: "string", default: "sim"},
    seed: {type: "string"},
    documents: {type: "string"},
    keep: {type: "boolean", default: false}
}});
const minutes = Number(values.minutes);
const workerCount = Number(values.workers);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${values.minutes})`);
if (!Number.isInteger(workerCount) || workerCount < 2 || workerCount > 16) throw new Error(`--workers takes 2 to 16 (got ${values.workers})`);
const engine = values.engine;
if (engine !== "sim" && engine !== "tiny") throw new Error(`--engine takes sim or tiny (got ${engine})`);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer (got ${values.seed})`);

/** A simulated document of ~50 tokens takes ~100 ms: a worker does ~10 documents/s, so a shard of 16 lasts ~1.6 s. */
const SIM_TOKENS_PER_SECOND = 500;
/** Short locks, so that a frozen or cut-off worker's shard is taken over within seconds. */
const LOCK_MS = 5000;
const STALLED_MS = 2000;
const SHARD_SIZE = 16;
const PREFIX = "chaos";
/**
 * A stopped process must be gone within this: a worker's SIGTERM takes at most its 3 s shutdown
 * deadline + 30 s grace + its bounded close steps, even with Redis unreachable.
 */
const STOP_WAIT_MS = 90_000;
const log = (line: string) => process.stderr.write(`[chaos ${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s] ${line}\n`);
const started = performance.now();
const work = mkdtempSync(join(tmpdir(), "orchard-chaos-"));
const logs = join(work, "logs");
mkdirSync(logs);
const tag = String(process.pid % 10000);
const slots = workerCount + 2; // the extra two are the workers that join and leave

process.stdout.write(`Orchard chaos soak: seed ${seed}, ${minutes} min of faults, ${workerCount} workers (+2 joining/leaving), engine ${engine}; work folder ${work}\n`);
process.stdout.write(`replay: npm run chaos -- --minutes ${minutes} --workers ${workerCount} --engine ${engine} --seed ${seed}\n`);

// ---- network namespaces ------------------------------------------------------------------------
const netns = namespacesAvailable();
if (!netns.ok) process.stdout.write(`network namespaces unavailable (${netns.why}): no partitions; the workers share loopback\n`);
const nsName = (slot: number) => `orch-chaos-${tag}-${slot}`;
const hostDev = (slot: number) => `oc${tag}h${slot}`;
const hostAddress = (slot: number) => `10.213.${slot}.1`;

function namespacesAvailable(): {ok: true} | {ok: false; why: string} {
    if (process.getuid?.() !== 0) return {ok: false, why: "not root"};
    const ip = spawnSync("ip", ["-V"], {encoding: "utf8"});
    if (ip.status !== 0) return {ok: false, why: "no `ip` command (iproute2)"};
    return {ok: true};
}

function ip(...args: string[]): void {
    const result = spawnSync("ip", args, {encoding: "utf8"});
    if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr.trim()}`);
}

function setUpNamespaces(): void {
    for (let slot = 0; slot < slots; slot++) {
        const ns = nsName(slot);
        ip("netns", "add", ns);
        ip("link", "add", hostDev(slot), "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip("addr", "add", `${hostAddress(slot)}/30`, "dev", hostDev(slot));
        ip("link", "set", hostDev(slot), "up");
        ip("-n", ns, "addr", "add", `10.213.${slot}.2/30`, "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        ip("-n", ns, "link", "set", "lo", "up");
    }
}

function tearDownNamespaces(): void {
    for (let slot = 0; slot < slots; slot++) spawnSync("ip", ["netns", "del", nsName(slot)]);
}

// ---- processes ---------------------------------------------------------------------------------
interface Managed {
    child: ChildProcess | undefined;
    stopped: boolean;
}
const children = new Set<ChildProcess>();

function launch(name: string, command: string, args: readonly string[], slot?: number): ChildProcess {
    const out = openSync(join(logs, `${name}.log`), "a");
    const [bin, argv] = slot !== undefined && netns.ok ? ["ip", ["netns", "exec", nsName(slot), command, ...args]] : [command, [...args]];
    const child = spawn(bin, argv, {cwd: repoRoot, stdio: ["ignore", out, out]});
    closeSync(out);
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
}

function alive(child: ChildProcess | undefined): child is ChildProcess {
    return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Children the soak itself ends: any other exit of a worker or coordinator is the fleet's own doing. */
const expectedExits = new WeakSet<ChildProcess>();

function signal(child: ChildProcess | undefined, sig: NodeJS.Signals): void {
    if (!alive(child)) return;
    if (sig === "SIGKILL" || sig === "SIGTERM") expectedExits.add(child);
    child.kill(sig);
}

/**
 * Waits for a child the soak stopped to exit, at most STOP_WAIT_MS: one that outlives its stop is an
 * anomaly (a worker must exit after its shutdown deadline and grace, whatever Redis does), and is
 * SIGKILLed so that the soak goes on and ends.
 */
async function exitOf(child: ChildProcess | undefined, what: string): Promise<void> {
    if (!alive(child)) return;
    const exited = once(child, "exit");
    if (!await settleWithin(exited, STOP_WAIT_MS)) {
        anomalies.push(`${what} (pid ${child.pid}) still running ${STOP_WAIT_MS / 1000} s after it was stopped: killed`);
        child.kill("SIGCONT");
        child.kill("SIGKILL");
        await exited;
    }
}

/** The last line a process wrote that is not a routine log line: why it exited. */
function lastWords(name: string): string {
    const lines = readFileSync(join(logs, `${name}.log`), "utf8").trim().split("\n");
    return (lines.findLast((line) => !line.startsWith("{")) ?? lines.at(-1) ?? "").slice(0, 300);
}

async function freePort(): Promise<number> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const {port} = server.address() as {port: number};
    server.close();
    return port;
}

const redisPort = await freePort();
const redisDir = join(work, "redis");
mkdirSync(redisDir);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
const redisState: Managed = {child: undefined, stopped: false};

async function startRedis(): Promise<void> {
    const binds = ["127.0.0.1", ...(netns.ok ? Array.from({length: slots}, (_, slot) => hostAddress(slot)) : [])];
    redisState.child = launch("redis", "redis-server", ["--port", String(redisPort), "--bind", ...binds, "--dir", redisDir, "--appendonly", "yes",
        "--appendfsync", "always", "--save", "", "--protected-mode", "no", "--maxmemory-policy", "noeviction"]);
    redisState.stopped = false;
    const client = new Redis(redisUrl, {lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null});
    client.on("error", () => {});
    for (let attempt = 0; ; attempt++) {
        try {
            await client.connect();
            // a restart replays the AOF before it answers
            while ((await client.info("persistence")).includes("loading:1")) await sleep(100);
            break;
        } catch (error) {
            if (attempt > 100) throw error;
            await sleep(100);
        }
    }
    client.disconnect();
}

// the model file names the fingerprint the runs are for; the simulated engine never reads its weights
const model = await ensureSyntheticModel({preset: "tiny", type: "f16", seed: 1, dir: join(repoRoot, "models")});
const engineFlags = engine === "sim" ? ["--simulate-tokens-per-second", String(SIM_TOKENS_PER_SECOND)] : ["--threads", "1", "--gpu", "false", "--context-size", "1024", "--contexts", "1"];
const workers: Managed[] = Array.from({length: slots}, () => ({child: undefined, stopped: false}));

function workerUrl(slot: number): string {
    return netns.ok ? `redis://${hostAddress(slot)}:${redisPort}` : redisUrl;
}

function startWorker(slot: number, tokensPerSecond?: number): void {
    // one worker per slot: two faults on one slot (a leave, then a SIGKILL's restart) must not start two
    if (alive(workers[slot]?.child)) return;
    const flags = tokensPerSecond === undefined ? engineFlags : ["--simulate-tokens-per-second", String(tokensPerSecond)];
    const child = launch(`worker-${slot}`, process.execPath, [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "worker", "--model", model, "--redis", workerUrl(slot),
        "--redis-prefix", PREFIX, "--name", `chaos-w${slot}`, ...flags, "--lock-duration-ms", String(LOCK_MS), "--stalled-interval-ms", String(STALLED_MS),
        "--shutdown-timeout-ms", "3000", "--log-format", "json"], slot);
    workers[slot] = {child, stopped: false};
    // a worker that ends by itself is restarted, as a service manager would (launchd KeepAlive, systemd Restart=)
    child.once("exit", (code, sig) => {
        if (expectedExits.has(child) || finishing) return;
        selfExits.push(`worker ${slot} exited with ${code ?? sig}: ${lastWords(`worker-${slot}`)}`);
        setTimeout(() => {
            if (workers[slot]?.child === child && !finishing) startWorker(slot, tokensPerSecond);
        }, 3000);
    });
}
const selfExits: string[] = [];
let finishing = false;

// ---- the runs ----------------------------------------------------------------------------------
/**
 * A third of what the fleet would do in the fault phase at full speed: the faults (a frozen Redis, workers
 * restarting) cut its speed by more than that, so the run outlasts them; fast workers drain the rest.
 */
const nominalDocsPerSecond = engine === "sim" ? workerCount * SIM_TOKENS_PER_SECOND / 50 : workerCount * 2;
const documents = values.documents === undefined ? Math.max(2000, Math.round(nominalDocsPerSecond * minutes * 60 / 3)) : Number(values.documents);
if (!Number.isInteger(documents) || documents < 100) throw new Error(`--documents must be an integer of at least 100 (got ${values.documents})`);
const input = join(work, "chaos.jsonl");
await writeDataset(input, documents, (i) => 24 + (i % 13));
const sideInput = join(work, "side.jsonl");
await writeDataset(sideInput, 1500, (i) => 30 + (i % 7));
const outputDir = join(work, "out");
const runArgs = (inputPath: string, out: string, ...extra: string[]) => [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "run", "--model", model, "--input", inputPath, "--output-dir", out,
    "--state-dir", join(out, ".orchard"), "--redis", redisUrl, "--redis-prefix", PREFIX, "--local-workers", "0", "--shard-size", String(SHARD_SIZE),
    ...(engine === "sim" ? ["--simulate-tokens-per-second", String(SIM_TOKENS_PER_SECOND)] : []), "--log-format", "json", ...extra];
const coordinator: Managed & {exits: {code: number | null; signal: string | null}[]} = {child: undefined, stopped: false, exits: []};
let mainDone = false;

function startCoordinator(): void {
    const child = launch("coordinator", process.execPath, runArgs(input, outputDir));
    coordinator.child = child;
    child.once("exit", (code, sig) => {
        coordinator.exits.push({code, signal: sig});
        if (code === 0) mainDone = true;
        else if (!expectedExits.has(child)) {
            selfExits.push(`the coordinator exited with ${code ?? sig}: ${lastWords("coordinator")}`);
            setTimeout(() => {
                if (coordinator.child === child && !mainDone && !finishing) startCoordinator();
            }, 3000);
        }
    });
}

const anomalies: string[] = [];
const counts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
let sideRuns = 0;

async function cancelSideRun(holdSeconds: number): Promise<void> {
    const out = join(work, `side-${sideRuns++}`);
    let child: ChildProcess | undefined;
    let runId: string | undefined;
    // a coordinator that starts while Redis is down gives up after 15 s (REDIS_UNAVAILABLE): start it again
    for (let attempt = 0; attempt < 10 && runId === undefined; attempt++) {
        child = launch(`side-${sideRuns}`, process.execPath, runArgs(sideInput, out, "--overwrite"));
        runId = await waitForRunId(`side-${sideRuns}`, child);
        if (runId === undefined) {
            signal(child, "SIGKILL");
            await sleep(3000);
        }
    }
    if (runId === undefined || child === undefined) {
        anomalies.push(`side run ${sideRuns} printed no run id`);
        return;
    }
    await sleep(holdSeconds * 1000);
    // `orchard cancel` started while Redis is away gives up after 15 s too: again, as a user would
    let code: number | null = null;
    for (let attempt = 0; attempt < 10 && code !== 0; attempt++) {
        if (attempt > 0) await sleep(3000);
        const cancel = launch(`cancel-${sideRuns}`, process.execPath, [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "cancel", runId, "--redis", redisUrl, "--redis-prefix", PREFIX]);
        [code] = await once(cancel, "exit") as [number | null];
    }
    if (code !== 0) anomalies.push(`orchard cancel ${runId} exited with ${code}`);
    const timer = setTimeout(() => signal(child, "SIGKILL"), 120_000);
    const side: ChildProcess = child;
    const sideCode = side.exitCode ?? side.signalCode ?? (await once(side, "exit") as [number | null])[0];
    clearTimeout(timer);
    // 1: RUN_CANCELLED; 0: it had finished before the cancel reached it
    if (sideCode !== 1 && sideCode !== 0) anomalies.push(`side run ${runId} ended with ${sideCode} after its cancel`);
    cancelledRuns.push(runId);
}
const cancelledRuns: string[] = [];

async function waitForRunId(name: string, child: ChildProcess): Promise<string | undefined> {
    for (let i = 0; i < 1200; i++) {
        const text = readFileSync(join(logs, `${name}.log`), "utf8");
        const match = /Run (\S+) \((?:new|resumed)\)/.exec(text);
        if (match !== null) return match[1];
        if (!alive(child)) return undefined;
        await sleep(100);
    }
    return undefined;
}

// ---- the fault phase ---------------------------------------------------------------------------
const schedule = chaosSchedule({seed, seconds: minutes * 60, workers: workerCount, partitions: netns.ok});
let interrupted = false;

async function cleanUp(): Promise<void> {
    for (const child of children) {
        signal(child, "SIGCONT");
        signal(child, "SIGKILL");
    }
    if (netns.ok) tearDownNamespaces();
    if (!values.keep) rmSync(work, {recursive: true, force: true});
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
        interrupted = true;
        log(`${sig}: cleaning up`);
        void cleanUp().then(() => process.exit(130));
    });
}

try {
    if (netns.ok) setUpNamespaces();
    await startRedis();
    for (let slot = 0; slot < workerCount; slot++) startWorker(slot);
    startCoordinator();
    log(`${documents} documents, ${schedule.length} faults scheduled; Redis ${redisUrl}`);
    const pending: Promise<void>[] = [];
    for (const event of schedule) {
        const wait = event.at * 1000 - (performance.now() - started);
        if (wait > 0) await sleep(wait);
        if (interrupted) break;
        if (mainDone) anomalies.push(`the run completed before the fault at ${event.at.toFixed(0)} s: dataset too small`);
        counts[event.kind]++;
        log(`${event.kind} ${event.target ?? ""} ${event.seconds.toFixed(1)} s`);
        pending.push(inject(event).catch((error: unknown) => void anomalies.push(`${event.kind} at ${event.at.toFixed(0)} s: ${String(error)}`)));
    }
    await Promise.all(pending);
    // heal: everything back up; fast workers drain what the faults left (the results do not depend on speed)
    log("fault phase over: healing, then draining the rest with fast workers");
    if (!alive(redisState.child)) await startRedis();
    for (let slot = 0; slot < slots; slot++) signal(workers[slot]?.child, "SIGCONT");
    if (!mainDone && !alive(coordinator.child)) startCoordinator();
    for (let slot = 0; slot < workerCount; slot++) {
        if (alive(workers[slot]?.child)) {
            signal(workers[slot]?.child, "SIGTERM");
            await exitOf(workers[slot]?.child, `worker ${slot} (healing)`);
        }
        startWorker(slot, engine === "sim" ? 1e6 : undefined);
    }
    const deadline = performance.now() + 15 * 60_000;
    while (!mainDone && performance.now() < deadline) {
        if (!alive(coordinator.child) && !mainDone) startCoordinator();
        await sleep(500);
    }
    if (!mainDone) anomalies.push("the run did not complete within 15 minutes of the fault phase's end");
    finishing = true;
    for (let slot = 0; slot < slots; slot++) signal(workers[slot]?.child, "SIGTERM");
    await Promise.all([...children].filter((c) => c !== redisState.child).map((c) => exitOf(c, `${c.spawnargs.includes("worker") ? "a worker" : "a coordinator"} (finishing)`)));

    // ---- verdict -------------------------------------------------------------------------------
    const outputName = `${basename(input)}.attributes.jsonl`;
    const output = existsSync(join(outputDir, outputName)) ? readFileSync(join(outputDir, outputName), "utf8") : "";
    const reference = await referenceOutput(outputName);
    const ids = (text: string) => text.split("\n").filter((line) => line !== "").map((line) => (JSON.parse(line) as {id: string}).id);
    const seen = new Map<string, number>();
    for (const id of ids(output)) seen.set(id, (seen.get(id) ?? 0) + 1);
    const expectedIds = ids(reference);
    const lost = expectedIds.filter((id) => !seen.has(id)).length;
    const duplicated = [...seen.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const identical = output === reference;
    const leftovers = await redisLeftovers();
    const seconds = Math.round((performance.now() - started) / 1000);
    process.stdout.write("\nfaults injected\n");
    printTable(["kind", "count"], FAULT_KINDS.map((kind) => [kind, String(counts[kind])]));
    process.stdout.write("\n");
    printTable(["result", "value"], [
        ["documents", String(documents)], ["output lines", String(seen.size + duplicated)], ["identical to the reference", identical ? "yes" : "NO"],
        ["lost", String(lost)], ["duplicated", String(duplicated)], ["coordinator starts", String(coordinator.exits.length + (alive(coordinator.child) ? 1 : 0))],
        ["side runs cancelled", String(cancelledRuns.length)], ["Redis keys left over", leftovers.length === 0 ? "none" : leftovers.join(", ")],
        ["exits not caused by the soak (restarted)", String(selfExits.length)],
        ["anomalies", anomalies.length === 0 ? "none" : String(anomalies.length)], ["seconds", String(seconds)]
    ]);
    for (const exit of selfExits) process.stdout.write(`exit: ${exit}\n`);
    for (const anomaly of anomalies) process.stdout.write(`anomaly: ${anomaly}\n`);
    if (!identical) process.stdout.write(`outputs differ: kept in ${work} (logs/)\n`);
    process.stdout.write(JSON.stringify({faults: counts, documents, identical, lost, duplicated, leftovers: leftovers.length, selfExits: selfExits.length, anomalies: anomalies.length, seed, seconds}) + "\n");
    if (!identical || leftovers.length > 0) process.exitCode = 1;
    if (!identical) values.keep = true;
} finally {
    await cleanUp();
}

async function inject(event: ChaosEvent): Promise<void> {
    const slot = event.target ?? 0;
    switch (event.kind) {
        case "worker-sigkill":
        case "worker-sigterm": {
            const child = workers[slot]?.child;
            signal(child, event.kind === "worker-sigkill" ? "SIGKILL" : "SIGTERM");
            await exitOf(child, `worker ${slot} (${event.kind})`);
            await sleep(event.seconds * 1000);
            startWorker(slot);
            return;
        }
        case "worker-sigstop": {
            const child = workers[slot]?.child;
            signal(child, "SIGSTOP");
            await sleep(event.seconds * 1000);
            signal(child, "SIGCONT");
            return;
        }
        case "worker-join":
            if (!alive(workers[slot]?.child)) startWorker(slot);
            return;
        case "worker-leave":
            signal(workers[slot]?.child, "SIGTERM");
            return;
        case "partition":
            ip("link", "set", hostDev(slot), "down");
            await sleep(event.seconds * 1000);
            ip("link", "set", hostDev(slot), "up");
            return;
        case "coordinator-sigkill": {
            const child = coordinator.child;
            if (mainDone) return;
            signal(child, "SIGKILL");
            await exitOf(child, "the coordinator (SIGKILL)");
            await sleep(event.seconds * 1000);
            startCoordinator();
            return;
        }
        case "redis-sigkill": {
            const child = redisState.child;
            signal(child, "SIGKILL");
            await exitOf(child, "Redis (SIGKILL)");
            await sleep(event.seconds * 1000);
            await startRedis();
            return;
        }
        case "redis-sigstop":
            signal(redisState.child, "SIGSTOP");
            await sleep(event.seconds * 1000);
            signal(redisState.child, "SIGCONT");
            return;
        case "cancel":
            await cancelSideRun(event.seconds);
            return;
    }
}

/** The same input through a fault-free path: `orchard extract` (tiny), or fast simulated workers (sim). */
async function referenceOutput(outputName: string): Promise<string> {
    const dir = join(work, "reference");
    const args = engine === "tiny"
        ? [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "extract", "--model", model, "--input", input, "--output", join(dir, outputName), "--threads", "2", "--gpu", "false", "--context-size", "1024"]
        : [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "run", "--model", model, "--input", input, "--output-dir", dir, "--state-dir", join(dir, ".orchard"), "--redis", redisUrl,
            "--redis-prefix", `${PREFIX}-reference`, "--local-workers", "2", "--shard-size", String(SHARD_SIZE), "--simulate-tokens-per-second", "1000000", "--log-format", "json"];
    mkdirSync(dir, {recursive: true});
    const child = launch("reference", process.execPath, args);
    const [code] = await once(child, "exit") as [number | null];
    if (code !== 0) throw new Error(`the reference run exited with ${code}: see ${join(logs, "reference.log")}`);
    return readFileSync(join(dir, outputName), "utf8");
}

/**
 * Keys of the soak's prefix that a fault-free run of the same input does not leave: the reference
 * (sim) ran under its own prefix, so its key set, run ids and job ids masked, is what status needs.
 * Without a sim reference, any job still queued, active, delayed or failed counts.
 */
async function redisLeftovers(): Promise<string[]> {
    const client = new Redis(redisUrl, {maxRetriesPerRequest: 3});
    try {
        const shapes = async (prefix: string) => {
            const found = new Map<string, number>();
            let cursor = "0";
            do {
                const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
                cursor = next;
                for (const key of keys) {
                    const shape = key.slice(prefix.length).replace(/[0-9a-f]{8,}(-[0-9a-f]{4,})*/gi, "<id>").replace(/\d+/g, "<n>");
                    found.set(shape, (found.get(shape) ?? 0) + 1);
                }
            } while (cursor !== "0");
            return found;
        };
        const ours = await shapes(PREFIX);
        const reference = engine === "sim" ? await shapes(`${PREFIX}-reference`) : new Map<string, number>();
        // workers announce themselves (heartbeats): the reference's local workers did too, under their own names
        return [...ours.keys()].filter((shape) => !reference.has(shape) && !/heartbeat|worker/i.test(shape)).map((shape) => `${shape} x${ours.get(shape)}`);
    } finally {
        client.disconnect();
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
