import {spawn} from "node:child_process";
import {rmSync} from "node:fs";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {ORCHARD_NODE_FLAGS} from "../../scripts/orchard-node-flags.ts";
import {ensureSyntheticModel} from "@orchard/worker";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const orchardBin = join(repoRoot, "bin", "orchard.js");
/** `orchard` whose workers run a faulty engine (FAULT_ENGINE: see fault-orchard.js). */
export const faultOrchardBin = join(repoRoot, "test", "support", "fault-orchard.js");
export const sampleInput = join(repoRoot, "scripts", "sample-data", "sentiment.jsonl");

export interface CliResult {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `orchard ...args` as a user would (a child process, with the node flags of its shebang), with JSON logs for stable parsing. */
export function runOrchard(args: readonly string[], options: {env?: NodeJS.ProcessEnv; onSpawn?: (child: ReturnType<typeof spawn>) => void} = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...ORCHARD_NODE_FLAGS, orchardBin, ...args], {
            cwd: repoRoot,
            env: {...process.env, ...options.env},
            stdio: ["ignore", "pipe", "pipe"]
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code, signal) => resolve({code, signal, stdout, stderr}));
        options.onSpawn?.(child);
    });
}

/** The tiny synthetic Mixtral (E 64, 2 layers), made once and cached under models/. */
export function tinyModel(): Promise<string> {
    return ensureSyntheticModel({preset: "tiny", type: "f32", seed: 1, dir: join(repoRoot, "models")});
}

const tempDirs = new Set<string>();
let removesAtExit = false;

/**
 * A new folder under the temp dir, removed with everything in it when the test file's process
 * ends (each test file runs in a process of its own), whatever the test did or how it failed;
 * `removeTempDir` removes one sooner.
 */
export async function tempDir(prefix = "orchard-test-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    if (!removesAtExit) process.once("exit", removeAllTempDirs);
    removesAtExit = true;
    tempDirs.add(dir);
    return dir;
}

/** Removes a folder made by `tempDir` now. */
export async function removeTempDir(dir: string): Promise<void> {
    tempDirs.delete(dir);
    await rm(dir, {recursive: true, force: true, maxRetries: 5});
}

function removeAllTempDirs(): void {
    // synchronous: nothing asynchronous runs at exit; retries ride out a child process (an embedded
    // redis-server just killed) still writing its last file into the folder
    for (const dir of tempDirs) rmSync(dir, {recursive: true, force: true, maxRetries: 5});
    tempDirs.clear();
}

export async function writeJsonl(path: string, rows: readonly unknown[]): Promise<string> {
    await writeFile(path, rows.map((row) => (typeof row === "string" ? row : JSON.stringify(row))).join("\n") + "\n");
    return path;
}

/** Common flags for fast, deterministic extraction in tests. */
export const FAST_ENGINE_FLAGS = ["--threads", "2", "--gpu", "false", "--context-size", "1024", "--log-format", "json"] as const;
