import {spawn, type ChildProcess} from "node:child_process";
import {ORCHARD_NODE_FLAGS} from "../../scripts/orchard-node-flags.ts";
import type {EngineFaults} from "./fault-engine.ts";
import {faultEnv} from "./fault-orchard-cli.ts";
import {faultOrchardBin, orchardBin, repoRoot, type CliResult} from "./orchard-cli.ts";

export interface OrchardProcessOptions {
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
    /** Faults of the engine of every worker this command starts (`orchard worker`, or `orchard run`'s local workers). */
    readonly faults?: EngineFaults;
}

/**
 * An `orchard` command running in the background, for tests that act on it while it works: wait
 * for a line in its output, send it signals, await its end. Output is accumulated.
 */
export class OrchardProcess {
    public readonly child: ChildProcess;
    public stdout = "";
    public stderr = "";
    public readonly exited: Promise<CliResult>;
    readonly #waiters = new Set<() => void>();

    private constructor(args: readonly string[], options: OrchardProcessOptions) {
        // with faults, the CLI of test/support/fault-orchard.js: its workers (local ones too) run a faulty engine
        const [bin, faults] = options.faults === undefined ? [orchardBin, {}] : [faultOrchardBin, faultEnv(options.faults)];
        this.child = spawn(process.execPath, [...ORCHARD_NODE_FLAGS, bin, ...args], {cwd: options.cwd ?? repoRoot, env: {...process.env, ...faults, ...options.env}, stdio: ["ignore", "pipe", "pipe"]});
        this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
            this.stdout += chunk;
            this.#notify();
        });
        this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
            this.stderr += chunk;
            this.#notify();
        });
        this.exited = new Promise((resolve, reject) => {
            this.child.once("error", reject);
            this.child.once("close", (code, signal) => {
                resolve({code, signal, stdout: this.stdout, stderr: this.stderr});
                this.#notify();
            });
        });
    }

    public static start(args: readonly string[], options: OrchardProcessOptions = {}): OrchardProcess {
        return new OrchardProcess(args, options);
    }

    public get pid(): number {
        return this.child.pid as number;
    }

    public get running(): boolean {
        return this.child.exitCode === null && this.child.signalCode === null;
    }

    /** Resolves with the first match of `pattern` in stdout + stderr; rejects on timeout or exit without it. */
    public waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
        return new Promise((resolve, reject) => {
            const check = () => {
                const match = (this.stdout + "\n" + this.stderr).match(pattern);
                if (match !== null) {
                    finish();
                    resolve(match);
                } else if (!this.running) {
                    finish();
                    reject(new Error(`process exited without printing ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-4000)}`));
                }
            };
            const timer = setTimeout(() => {
                finish();
                reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-4000)}`));
            }, timeoutMs);
            const finish = () => {
                clearTimeout(timer);
                this.#waiters.delete(check);
            };
            this.#waiters.add(check);
            check();
        });
    }

    public kill(signal: NodeJS.Signals = "SIGTERM"): void {
        if (this.running) this.child.kill(signal);
    }

    /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
    public async stop(graceMs = 20_000): Promise<CliResult> {
        this.kill("SIGTERM");
        const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
        try {
            return await this.exited;
        } finally {
            clearTimeout(timer);
        }
    }

    #notify(): void {
        for (const waiter of [...this.#waiters]) waiter();
    }
}
