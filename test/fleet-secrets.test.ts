import assert from "node:assert/strict";
import {execFile, spawn, spawnSync} from "node:child_process";
import {readdir, readFile, rm, stat} from "node:fs/promises";
import {connect} from "node:net";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {promisify} from "node:util";
import {ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {faultEnv} from "./support/fault-orchard-cli.ts";
import {FAST_ENGINE_FLAGS, faultOrchardBin, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";

// Secrets and signals of `orchard run` with its embedded Redis, one run followed through: while it
// works (argv, authentication, `orchard status`, file modes), a hang-up (SIGHUP), then a resume.

/** Every process' command line on this machine, as any local user reads them with `ps`. */
async function processTable(): Promise<{pid: number; ppid: number; args: string}[]> {
    const {stdout} = await promisify(execFile)("ps", ["-A", "-ww", "-o", "pid=,ppid=,args="], {maxBuffer: 64 * 1024 * 1024});
    return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => {
        const [, pid, ppid, args] = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line) as RegExpExecArray;
        return {pid: Number(pid), ppid: Number(ppid), args: args as string};
    });
}

/** The raw answer of a Redis to PING sent without AUTH. */
function pingWithoutAuth(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = connect({host: "127.0.0.1", port});
        let answer = "";
        socket.once("error", reject);
        socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
        socket.on("data", (chunk) => {
            answer += chunk.toString("latin1");
            if (answer.includes("\r\n")) {
                socket.destroy();
                resolve(answer.trim());
            }
        });
    });
}

/** Permission bits of `dir` and everything under it. */
async function modesUnder(dir: string): Promise<{path: string; dir: boolean; mode: number}[]> {
    const found = [{path: dir, dir: true, mode: (await stat(dir)).mode & 0o777}];
    for (const entry of await readdir(dir, {withFileTypes: true})) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) found.push(...await modesUnder(path));
        // a temporary file renamed away meanwhile has no mode left to check
        else {
            const info = await stat(path).catch(() => undefined);
            if (info !== undefined) found.push({path, dir: false, mode: info.mode & 0o777});
        }
    }
    return found;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function waitForLines(path: string, lines: number): Promise<void> {
    while ((await readFile(path, "utf8").catch(() => "")).split("\n").length - 1 < lines) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("orchard run with its embedded Redis: secrets off command lines, a private state folder, SIGHUP as Ctrl-C, a quiet resume", () => {
    let model: string;
    let cwd: string;
    let runId: string;
    let endpoint: {pid: number; port: number; password?: string};
    let run: OrchardProcess | undefined;
    const output = () => join(cwd, "out", "sentiment.jsonl.attributes.jsonl");

    before(async () => {
        model = await tinyModel();
        cwd = await tempDir("orchard-secrets-");
        // a document delay keeps the run going while the test looks at it
        run = OrchardProcess.start(["run", "--model", model, "--input", sampleInput, "--output-dir", "out", "--shard-size", "4", "--local-workers", "1",
            ...FAST_ENGINE_FLAGS, "--threads", "1"], {cwd, faults: {documentDelayMs: 200}});
        runId = (await run.waitFor(/Run (\S+) \(new\)/))[1] as string;
        await waitForLines(output(), 4);
        endpoint = JSON.parse(await readFile(join(cwd, ".orchard", "redis", "endpoint.json"), "utf8")) as typeof endpoint;
    });
    after(async () => {
        await run?.stop();
        if (endpoint !== undefined && alive(endpoint.pid)) process.kill(endpoint.pid, "SIGTERM");
        await rm(cwd, {recursive: true, force: true});
    });

    it("the embedded Redis on loopback has a password, and it is on no command line: not redis-server's, not the local workers'", async () => {
        const password = endpoint.password;
        assert.ok(password !== undefined && password.length >= 16, "loopback gets a password too");
        assert.match(await pingWithoutAuth(endpoint.port), /^-NOAUTH/);
        const table = await processTable();
        const redisServer = table.find((entry) => entry.pid === endpoint.pid);
        assert.ok(redisServer !== undefined && /redis-server/.test(redisServer.args), "the embedded redis-server runs");
        const workers = table.filter((entry) => entry.ppid === run?.pid && / worker /.test(entry.args));
        assert.equal(workers.length, 1, "the local worker runs");
        const leaking = table.filter((entry) => entry.args.includes(password));
        assert.deepEqual(leaking, [], "no process shows the password in its arguments");
        // and the terminal does not show it either
        assert.ok(!run?.stdout.includes(password), run?.stdout);
    });

    it("orchard status in the same folder finds the embedded Redis, password included", async () => {
        const status = await OrchardProcess.start(["status", runId, "--json"], {cwd}).exited;
        assert.equal(status.code, 0, status.stderr);
        const report = JSON.parse(status.stdout) as {runs: {runId: string; status: string}[]};
        assert.deepEqual(report.runs.map((entry) => [entry.runId, entry.status]), [[runId, "running"]]);
    });

    it("the state folder is private: folders 700, files 600 (AOF, log, config, endpoint, password)", async () => {
        const modes = await modesUnder(join(cwd, ".orchard"));
        assert.ok(modes.some((entry) => entry.path.includes("appendonly.aof")), modes.map((entry) => entry.path).join(", "));
        for (const entry of modes) assert.equal(entry.mode, entry.dir ? 0o700 : 0o600, `${entry.path}: ${entry.mode.toString(8)}`);
    });

    it("SIGHUP (the terminal closed) stops the run as Ctrl-C does: exit 130, workers and redis-server gone, resumable", async () => {
        const workers = (await processTable()).filter((entry) => entry.ppid === run?.pid && / worker /.test(entry.args)).map((entry) => entry.pid);
        run?.kill("SIGHUP");
        const result = await (run as OrchardProcess).exited;
        assert.equal(result.code, 130, result.stderr);
        assert.match(result.stdout, new RegExp(`Resume with: orchard resume ${runId}`));
        assert.equal(alive(endpoint.pid), false, "the embedded redis-server stopped");
        assert.deepEqual(workers.filter(alive), [], "the local workers stopped");
        await assert.rejects(stat(join(cwd, ".orchard", "redis", "endpoint.json")), {code: "ENOENT"});
        // as after Ctrl-C: nothing coordinates the run any more, and status says to resume it
        const status = await OrchardProcess.start(["status", runId, "--json"], {cwd}).exited;
        assert.equal(status.code, 0, status.stderr);
        const report = JSON.parse(status.stdout) as {runs: {coordinator: string; problems: string[]}[]};
        assert.equal(report.runs[0]?.coordinator, "absent");
        assert.ok(report.runs[0]?.problems.some((problem) => problem.includes(`orchard resume ${runId}`)), status.stdout);
    });

    it("orchard resume after a killed coordinator adopts its embedded Redis, completes the run and stops it without a connection-refused warning", async () => {
        // a coordinator SIGKILLed mid-run leaves its redis-server up: the next one adopts it, and stopping an
        // adopted server takes a while (it is not our child), long enough for connections left open to retry
        const killed = OrchardProcess.start(["resume", runId, "--log-format", "json", "--threads", "1", "--gpu", "false"], {cwd, faults: {documentDelayMs: 200}});
        try {
            await killed.waitFor(/"msg":"embedded Redis ready"/);
            killed.kill("SIGKILL");
            await killed.exited;
        } finally {
            await killed.stop();
        }
        const resumed = await OrchardProcess.start(["resume", runId, "--log-format", "json", "--threads", "1", "--gpu", "false"], {cwd}).exited;
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stdout, new RegExp(`Run ${runId} \\(resumed\\)`));
        assert.match(resumed.stderr, /"msg":"adopting the embedded Redis left running by a previous coordinator"/);
        assert.doesNotMatch(resumed.stderr, /ECONNREFUSED/);
        const ids = (await readFile(output(), "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id);
        const expected = (await readFile(sampleInput, "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as {id: string}).id);
        assert.deepEqual(ids, expected);
    });
});

/** util-linux `script` gives a command a pseudo-terminal that the test can close, as a user closes a terminal window. */
const SCRIPT = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0 ? "script" : undefined;

describe("orchard run on a terminal that closes", {skip: SCRIPT === undefined ? "needs util-linux `script` (Linux) for a pseudo-terminal" : false}, () => {
    it("the hung-up coordinator stops its local worker and its embedded Redis, and leaves the run to orchard resume", async (t) => {
        const model = await tinyModel();
        const cwd = await tempDir("orchard-hangup-");
        t.after(() => rm(cwd, {recursive: true, force: true}));
        const command = [process.execPath, ...ORCHARD_NODE_FLAGS, faultOrchardBin, "run", "--model", model, "--input", sampleInput, "--output-dir", "out",
            "--shard-size", "4", "--local-workers", "1", ...FAST_ENGINE_FLAGS.filter((flag) => flag !== "--log-format" && flag !== "json"), "--threads", "1"]
            .map((part) => `'${part}'`).join(" ");
        const terminal = spawn(SCRIPT as string, ["-qfec", command, "/dev/null"], {cwd, env: {...process.env, ...faultEnv({documentDelayMs: 200})}, stdio: ["pipe", "ignore", "ignore"]});
        t.after(() => terminal.kill("SIGKILL"));
        await waitForLines(join(cwd, "out", "sentiment.jsonl.attributes.jsonl"), 4);
        const endpoint = JSON.parse(await readFile(join(cwd, ".orchard", "redis", "endpoint.json"), "utf8")) as {pid: number; ownerPid: number};
        // a coordinator that failed to stop it would leave its redis-server behind
        t.after(() => void (alive(endpoint.pid) && process.kill(endpoint.pid, "SIGTERM")));
        const workers = (await processTable()).filter((entry) => entry.ppid === endpoint.ownerPid && / worker /.test(entry.args)).map((entry) => entry.pid);
        assert.equal(workers.length, 1, "the local worker runs");
        terminal.kill("SIGKILL");
        // the coordinator's exit is not ours to await (script was its parent): wait for what it stops
        while (alive(endpoint.ownerPid)) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(alive(endpoint.pid), false, "the embedded redis-server stopped");
        assert.deepEqual(workers.filter(alive), [], "the local worker stopped");
        await assert.rejects(stat(join(cwd, ".orchard", "redis", "endpoint.json")), {code: "ENOENT"});
        const status = await OrchardProcess.start(["status", "--json"], {cwd}).exited;
        assert.equal(status.code, 0, status.stderr);
        const report = JSON.parse(status.stdout) as {runs: {runId: string; coordinator: string; problems: string[]}[]};
        const run = report.runs[0];
        assert.equal(run?.coordinator, "absent");
        assert.ok(run?.problems.some((problem) => problem.includes(`orchard resume ${run.runId}`)) === true, status.stdout);
    });
});
