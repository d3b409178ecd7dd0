// Shared helpers for Orchard's benchmarks: machine facts, child-process runs, table + JSON output.
import {spawn} from "node:child_process";
import {cpus, totalmem, availableParallelism} from "node:os";
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));

export function machineFacts() {
    const llamaVersion = (JSON.parse(readFileSync(`${repoRoot}node_modules/node-llama-cpp/package.json`, "utf8")) as {version: string}).version;
    return {
        cpu: cpus()[0]?.model ?? "unknown",
        cores: availableParallelism(),
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        platform: `${process.platform}-${process.arch}`,
        node: process.version,
        nodeLlamaCpp: llamaVersion
    };
}

/** Runs `node --import tsx <script> <args>` and returns the JSON object its last stdout line holds. */
export function runChild<T>(script: string, args: readonly string[]): Promise<T> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"]});
        let stdout = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code !== 0) return reject(new Error(`${script} ${args.join(" ")} exited with ${code}`));
            const last = stdout.trim().split("\n").at(-1) ?? "";
            try {
                resolve(JSON.parse(last) as T);
            } catch {
                reject(new Error(`${script} printed no JSON result: ${stdout.slice(-500)}`));
            }
        });
    });
}

export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Prints an aligned text table to stdout. */
export function printTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    const cells = [headers, ...rows.map((row) => row.map(String))];
    const widths = headers.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? "").length)));
    const line = (row: readonly string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ");
    process.stdout.write(line(cells[0] as string[]) + "\n" + widths.map((w) => "-".repeat(w)).join("  ") + "\n");
    for (const row of cells.slice(1)) process.stdout.write(line(row as string[]) + "\n");
}
