import assert from "node:assert/strict";
import {spawn, spawnSync} from "node:child_process";
import {readFile, stat} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";
import {orchardBin, removeTempDir, repoRoot, sampleInput, tempDir, tinyModel, type CliResult} from "./support/orchard-cli.ts";
import {reportSkip} from "./support/test-skips.ts";

/**
 * The coordinator advertised by mDNS and found by `orchard worker`, for real: every process runs in
 * a network namespace of its own whose only interface is a loopback with multicast on, so the
 * multicast DNS packets never leave it (no LAN in tests) and no other mDNS responder answers.
 * The password is typed on a pseudo-terminal (util-linux `script`), as a person would.
 */
const NAMESPACE = `orchard-mdns-${process.pid}`;

/** Why the namespace cannot be made here, or undefined when it was. */
function makeNamespace(): string | undefined {
    if (process.platform !== "linux") return "network namespaces are Linux's";
    if (process.getuid?.() !== 0) return "making a network namespace needs root";
    if (spawnSync("script", ["--version"]).status !== 0) return "no util-linux `script` to give the worker a terminal";
    const steps = [["netns", "add", NAMESPACE], ["-n", NAMESPACE, "link", "set", "lo", "up"], ["-n", NAMESPACE, "link", "set", "lo", "multicast", "on"],
        ["-n", NAMESPACE, "route", "add", "224.0.0.0/4", "dev", "lo"]];
    for (const step of steps) {
        const result = spawnSync("ip", step, {encoding: "utf8"});
        if (result.status !== 0) {
            spawnSync("ip", ["netns", "del", NAMESPACE]);
            return `\`ip ${step.join(" ")}\` failed: ${(result.stderr ?? String(result.error)).trim()}`;
        }
    }
    return undefined;
}

/** An orchard command in the namespace (optionally under `script`, for a terminal); output accumulated. */
class NamespacedOrchard {
    public out = "";
    public readonly exited: Promise<CliResult>;
    readonly #child: ReturnType<typeof spawn>;

    public constructor(args: readonly string[], options: {terminal?: boolean} = {}) {
        const command = [process.execPath, ...ORCHARD_NODE_FLAGS, orchardBin, ...args];
        // `exec`: script runs the command through $SHELL -c, and dash (CI's /bin/sh) does not exec a
        // lone command; Ctrl-C on the terminal then killed that shell too and script exited 130
        // while the worker itself stopped cleanly
        const argv = options.terminal === true ? ["script", "-qefc", `exec ${command.map((word) => `'${word}'`).join(" ")}`, "/dev/null"] : command;
        const env: NodeJS.ProcessEnv = {...process.env, SHELL: "/bin/sh"};
        delete env["ORCHARD_REDIS_URL"];
        this.#child = spawn("ip", ["netns", "exec", NAMESPACE, ...argv], {cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"]});
        for (const stream of [this.#child.stdout, this.#child.stderr]) stream?.setEncoding("utf8").on("data", (chunk: string) => (this.out += chunk));
        this.exited = new Promise((resolve) => this.#child.once("close", (code, signal) => resolve({code, signal, stdout: this.out, stderr: ""})));
    }

    /** Types on its terminal (stdin). */
    public type(text: string): void {
        this.#child.stdin?.write(text);
    }

    public async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const match = this.out.match(pattern);
            if (match !== null) return match;
            if (this.#child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in:\n${this.out.slice(-3000)}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }

    /** Ends its terminal's input (script then exits with the command). */
    public endInput(): void {
        this.#child.stdin?.end();
    }

    /** Kills it (cleanup: a worker whose coordinator's Redis is gone would wait for it to come back). */
    public kill(): void {
        if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
    }
}

const SKIP = makeNamespace();
if (SKIP !== undefined) reportSkip({test: "test/fleet-discovery.test.ts (mDNS in a network namespace)", reason: SKIP, enable: "run the tests as root on Linux with iproute2 and util-linux"});

describe("finding the coordinator on the LAN (mDNS in a private network namespace)", {skip: SKIP}, () => {
    const processes: NamespacedOrchard[] = [];
    let dir = "";
    before(async () => {
        dir = await tempDir("orchard-discovery-");
    });
    after(async () => {
        for (const child of processes) child.kill();
        await Promise.all(processes.map((child) => child.exited));
        spawnSync("ip", ["netns", "del", NAMESPACE]);
        await removeTempDir(dir);
    });
    const start = (args: readonly string[], options: {terminal?: boolean} = {}) => {
        const child = new NamespacedOrchard(args, options);
        processes.push(child);
        return child;
    };

    it("run --redis-bind 0.0.0.0 advertises; worker lists it, joins it with the password typed once (hidden), and the next start needs nothing", async () => {
        const model = await tinyModel();
        const workerDir = join(dir, "worker-state");
        const workerFlags = (tokensPerSecond: number, stateDir = workerDir) =>
            ["worker", "--model", model, "--state-dir", stateDir, "--simulate-tokens-per-second", String(tokensPerSecond), "--context-size", "1024", "--log-format", "json"];
        const run = start(["run", "--model", model, "--input", sampleInput, "--output-dir", join(dir, "out"), "--state-dir", join(dir, "coordinator-state"),
            "--redis-bind", "0.0.0.0", "--local-workers", "0", "--simulate-tokens-per-second", "4000", "--context-size", "1024", "--name", "discovery", "--log-format", "json"]);
        const [, name] = await run.waitFor(/--join (\S+)/);
        const [, password, port] = await run.waitFor(/ORCHARD_REDIS_URL='redis:\/\/:([^@]+)@[^:]+:(\d+)'/);
        const [, runId] = await run.waitFor(/Run (discovery-[0-9a-f]{8}) \(new\)/);

        // no --redis, no state: the worker lists what answered, and says how to join (beside the joining worker: both browse for 3 s)
        const listed = start(workerFlags(4000, join(dir, "fresh-state"))).exited;
        // --join on a terminal: the password is asked once, not echoed, checked, then kept with mode 600;
        // ~0.3 s a shard of 2 reviews, so that the run outlasts this worker, stopped (Ctrl-C) after its first shard
        const joining = start([...workerFlags(400), "--join", name as string], {terminal: true});
        await joining.waitFor(/Redis password of /);
        joining.type(`${password}\r`);
        await joining.waitFor(/"msg":"shard done/);
        joining.type("\u0003");
        joining.endInput();
        const listing = await listed;
        assert.equal(listing.code, 1, listing.stdout);
        assert.ok(listing.stdout.includes(`  ${name}  127.0.0.1:${port}  runs: ${runId}  (Orchard `), listing.stdout);
        assert.match(listing.stdout, /join one of the coordinators above with --join NAME/);
        assert.ok(!listing.stdout.includes(password as string), "the password is never advertised");
        const joined = await joining.exited;
        assert.equal(joined.code, 0, joined.stdout.slice(-2000));
        assert.ok(!joined.stdout.includes(password as string), "the typed password is not echoed");
        const stored = join(workerDir, "joined-redis-url");
        assert.equal((await stat(stored)).mode & 0o777, 0o600);
        assert.equal((await readFile(stored, "utf8")).trim(), `redis://:${password}@127.0.0.1:${port}`);

        // the next start, with no terminal and no flag, joins with the stored URL and finishes the run
        const next = start(workerFlags(4000));
        const summary = await run.exited;
        assert.equal(summary.code, 0, summary.stdout.slice(-2000));
        assert.match(summary.stdout, /Documents: 40 merged of 40/);
        await next.waitFor(/"msg":"shard done/);
        const lines = (await readFile(join(dir, "out", "sentiment.jsonl.attributes.jsonl"), "utf8")).trim().split("\n");
        assert.equal(lines.length, 40);
    });
});
