import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {chmod, mkdir, readFile, rm, stat, symlink, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {findExecutable} from "../scripts/demo/find-executable.ts";
import {redisInstallPlan, type InstallFacts} from "../scripts/demo/redis-install-plan.ts";
import {repoRoot, tempDir, tinyModel, type CliResult} from "./support/orchard-cli.ts";

const realRedis = findExecutable("redis-server", process.env["PATH"] ?? "");
const isRoot = process.getuid?.() === 0;
const platformSupported = process.platform === "linux" || process.platform === "darwin";

/** What the demo must run on this machine to install Redis (the package manager's argv, as recorded by the stub). */
const expectedInstall: string[][] = process.platform === "darwin" ? [["brew", "install", "redis"]]
    : isRoot ? [["apt-get", "update"], ["apt-get", "install", "-y", "redis-server"]]
    : [["sudo", "-n", "true"], ["sudo", "-n", "apt-get", "update"], ["sudo", "-n", "apt-get", "install", "-y", "redis-server"]];
const stubNames = process.platform === "darwin" ? ["brew"] : isRoot ? ["apt-get"] : ["apt-get", "sudo"];

/**
 * A folder for PATH holding `node` and, unless `packageManager` is "absent", stubs of the package
 * manager (and sudo) that record their argv in `calls.jsonl`; "installs" links the real
 * redis-server into the folder when asked to install, "fails" exits 100 as apt-get does.
 */
async function fakePath(dir: string, packageManager: "installs" | "fails" | "absent"): Promise<{bin: string; calls: () => Promise<string[][]>}> {
    const bin = join(dir, "bin");
    const log = join(dir, "calls.jsonl");
    await mkdir(bin);
    await symlink(process.execPath, join(bin, "node"));
    if (packageManager !== "absent") {
        const stub = join(dir, "package-manager-stub.cjs");
        await writeFile(stub, `#!${process.execPath}
const {appendFileSync, symlinkSync} = require("node:fs");
const {basename, join} = require("node:path");
const argv = [basename(process.argv[1]), ...process.argv.slice(2)];
appendFileSync(${JSON.stringify(log)}, JSON.stringify(argv) + "\\n");
if (argv[0] === "sudo" && argv[1] === "-n" && argv[2] === "true") process.exit(0);
if (${JSON.stringify(packageManager)} === "fails") process.exit(100);
if (argv.includes("install")) symlinkSync(${JSON.stringify(realRedis ?? "")}, join(${JSON.stringify(bin)}, "redis-server"));
`);
        await chmod(stub, 0o755);
        for (const name of stubNames) await symlink(stub, join(bin, name));
    }
    const calls = async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as string[]);
    return {bin, calls};
}

/** `npm run demo` as a user runs it, in `cwd`, with PATH = `bin` only. */
function runDemo(cwd: string, bin: string): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = {...process.env, PATH: bin};
    delete env["ORCHARD_REDIS_URL"];
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(repoRoot, "scripts", "demo.ts")], {cwd, env, stdio: ["ignore", "pipe", "pipe"]});
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code, signal) => resolve({code, signal, stdout, stderr}));
    });
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe("npm run demo on a machine without redis-server", {skip: !platformSupported || realRedis === undefined ? "needs Linux or macOS and a redis-server to 'install'" : false}, () => {
    const dirs: string[] = [];
    let fleetOutput: Buffer | undefined;
    before(async () => void await tinyModel());
    after(async () => {
        for (const dir of dirs) await rm(dir, {recursive: true, force: true});
    });
    const newDir = async () => {
        const dir = await tempDir("orchard-demo-");
        dirs.push(dir);
        return dir;
    };

    it("installs it with the platform's package manager, showing the exact commands, then runs the fleet", async () => {
        const dir = await newDir();
        const {bin, calls} = await fakePath(dir, "installs");
        const result = await runDemo(dir, bin);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await calls(), expectedInstall);
        for (const command of expectedInstall.filter((argv) => argv.at(-1) !== "true"))
            assert.ok(result.stderr.includes(`installing Redis: ${command.join(" ")}\n`), `the demo shows \`${command.join(" ")}\` before running it\n${result.stderr}`);
        // the fleet ran: its embedded Redis kept its data in the demo's state dir
        assert.ok(await exists(join(dir, ".orchard", "redis")), "the embedded Redis ran");
        fleetOutput = await readFile(join(dir, "out", "sentiment.jsonl.attributes.jsonl"));
        assert.equal(fleetOutput.toString().trim().split("\n").length, 40);
        // what it leaves behind: where the output is, its first line abbreviated, the next steps
        assert.match(result.stdout, /Output: out\/sentiment\.jsonl\.attributes\.jsonl: 40 lines/);
        assert.match(result.stdout, /\{"id":"review-001","label":1,.*"attributes":\[[-\d.e]+,[-\d.e]+,[-\d.e]+,[-\d.e]+, … 28 more\]/);
        assert.match(result.stdout, /ORCHARD_REDIS_URL=.* npx orchard worker --model .*tiny-f32-seed1\.gguf\n/);
        assert.match(result.stdout, /npx orchard run --model models\/<mixtral>\.gguf/);
    });

    for (const packageManager of ["fails", "absent"] as const)
        it(`falls back to orchard extract when the package manager ${packageManager === "fails" ? "fails" : "is absent"}: the same output, no Redis`, async () => {
            assert.ok(fleetOutput !== undefined, "needs the fleet's output of the test before");
            const dir = await newDir();
            const {bin, calls} = await fakePath(dir, packageManager);
            const result = await runDemo(dir, bin);
            assert.equal(result.code, 0, result.stderr);
            // it tried the first install step and stopped there, or had nothing to try
            assert.deepEqual(await calls(), packageManager === "absent" ? [] : expectedInstall.slice(0, isRoot || process.platform === "darwin" ? 1 : 2));
            assert.ok(!await exists(join(dir, ".orchard")), "no Redis ran");
            assert.ok((await readFile(join(dir, "out", "sentiment.jsonl.attributes.jsonl"))).equals(fleetOutput), "extract writes the fleet's bytes");
            assert.match(result.stdout, /Output: out\/sentiment\.jsonl\.attributes\.jsonl: 40 lines/);
            assert.match(result.stdout, /The fleet .* needs Redis: /);
        });
});

describe("redisInstallPlan", () => {
    const facts = (overrides: Partial<InstallFacts> & {tools?: string[]}): InstallFacts => ({
        platform: "linux", root: false, passwordlessSudo: () => false, ...overrides, has: (tool) => (overrides.tools ?? []).includes(tool)
    });

    it("uses Homebrew on macOS, and says how to get it when it is missing", () => {
        assert.deepEqual(redisInstallPlan(facts({platform: "darwin", tools: ["brew"]})), {kind: "install", commands: [["brew", "install", "redis"]]});
        const manual = redisInstallPlan(facts({platform: "darwin"}));
        assert.equal(manual.kind, "manual");
        assert.match(manual.kind === "manual" ? manual.reason : "", /brew\.sh/);
    });

    it("uses apt-get as root, through `sudo -n` when sudo needs no password, and never prompts for one", () => {
        const apt = [["apt-get", "update"], ["apt-get", "install", "-y", "redis-server"]];
        assert.deepEqual(redisInstallPlan(facts({root: true, tools: ["apt-get"]})), {kind: "install", commands: apt});
        assert.deepEqual(redisInstallPlan(facts({tools: ["apt-get", "sudo"], passwordlessSudo: () => true})),
            {kind: "install", commands: apt.map((argv) => ["sudo", "-n", ...argv])});
        const prompt = redisInstallPlan(facts({tools: ["apt-get", "sudo"], passwordlessSudo: () => false}));
        assert.deepEqual(prompt.kind === "manual" ? prompt.command : prompt, "sudo apt-get install redis-server");
        assert.equal(redisInstallPlan(facts({tools: ["apt-get"]})).kind, "manual");
    });

    it("installs nothing where it knows no package manager", () => {
        assert.equal(redisInstallPlan(facts({root: true, tools: ["sudo"]})).kind, "manual");
        assert.equal(redisInstallPlan(facts({platform: "win32", root: true, tools: ["apt-get", "brew"]})).kind, "manual");
    });
});
