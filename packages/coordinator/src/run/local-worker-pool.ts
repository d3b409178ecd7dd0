import {spawn, type ChildProcess} from "node:child_process";
import {OrchardError, type Logger} from "@orchard/shared";

export interface LocalWorkerPoolOptions {
    readonly count: number;
    /** argv prefix that runs the `orchard` CLI (e.g. [node, bin/orchard.js]); "worker" and `args` follow. */
    readonly command: readonly string[];
    /** Arguments after `worker` (model, engine flags...); `--name <name>-<i>` is added. Never a secret: every local user can read them. */
    readonly args: readonly string[];
    /** Variables added to the workers' environment (the Redis URL with its password goes here). Default none. */
    readonly env?: Readonly<Record<string, string>>;
    readonly namePrefix: string;
    /** Milliseconds a worker gets to finish or return its shard after SIGTERM before SIGKILL. Default 30,000. */
    readonly stopTimeoutMs?: number;
    readonly logger?: Logger;
}

/** Restarts of one crashed local worker, at most, before it is left down. */
const MAX_RESTARTS = 5;

/**
 * Workers run beside the coordinator as child processes (`orchard worker`), so that one machine is
 * a whole fleet (`npm run demo`). They share nothing with the coordinator but Redis, exactly like
 * workers on other machines. A worker that crashes is restarted (a few times); `stop()` asks each
 * to finish or return its shard (SIGTERM), then kills what is left.
 */
export class LocalWorkerPool {
    readonly #options: LocalWorkerPoolOptions;
    readonly #log: Logger | undefined;
    readonly #children = new Map<number, ChildProcess>();
    readonly #restarts = new Map<number, number>();
    #stopping = false;

    public constructor(options: LocalWorkerPoolOptions) {
        if (options.count > 0 && options.command.length === 0)
            throw new OrchardError("INVALID_ARGUMENT", "local workers need the command that runs `orchard` (localWorkerCommand)");
        this.#options = options;
        this.#log = options.logger?.child({component: "local-workers"});
        for (let i = 0; i < options.count; i++) this.#start(i);
    }

    /** The workers' names (`<namePrefix>-1` ...), as their heartbeats carry them. */
    public get names(): string[] {
        return Array.from({length: this.#options.count}, (_, index) => this.#name(index));
    }

    /** Process ids of the running workers. */
    public get pids(): number[] {
        return [...this.#children.values()].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
    }

    public async stop(): Promise<void> {
        if (this.#stopping) return;
        this.#stopping = true;
        const exits = [...this.#children.values()].map((child) => new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), this.#options.stopTimeoutMs ?? 30_000);
            child.once("exit", () => clearTimeout(timer));
        }));
        await Promise.all(exits);
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.stop();
    }

    #name(index: number): string {
        return `${this.#options.namePrefix}-${index + 1}`;
    }

    #start(index: number): void {
        const [executable, ...prefix] = this.#options.command as [string, ...string[]];
        const name = this.#name(index);
        const child = spawn(executable, [...prefix, "worker", ...this.#options.args, "--name", name], {
            // their logs go where the coordinator's go; stdout is theirs to ignore
            stdio: ["ignore", "ignore", "inherit"],
            env: {...process.env, ...this.#options.env}
        });
        this.#children.set(index, child);
        this.#log?.debug({pid: child.pid, name}, "local worker started");
        child.once("error", (error) => this.#log?.error({err: error, name}, "could not start a local worker"));
        child.once("exit", (code, signal) => {
            this.#children.delete(index);
            if (this.#stopping) return;
            const restarts = this.#restarts.get(index) ?? 0;
            if (restarts >= MAX_RESTARTS) {
                this.#log?.error({name, code, signal}, `local worker exited ${MAX_RESTARTS + 1} times; leaving it down`);
                return;
            }
            this.#restarts.set(index, restarts + 1);
            this.#log?.warn({name, code, signal}, "local worker exited; restarting it");
            setTimeout(() => {
                if (!this.#stopping) this.#start(index);
            }, 1000).unref();
        });
    }
}
