import {spawn} from "node:child_process";
import type {Logger} from "@orchard/shared";

/** A keep-awake process while it runs. */
export interface WakeLockProcess {
    stop(): void;
}

/** Starts the keep-awake process (`caffeinate`); tests pass one that records the calls. */
export interface WakeLockRunner {
    start(command: string, args: readonly string[]): WakeLockProcess;
}

export interface ShardWakeLockOptions {
    /** Default process.platform: caffeinate on "darwin" only; elsewhere the lock does nothing. */
    readonly platform?: NodeJS.Platform;
    /** Default: spawns the command (spawnWakeLockRunner). */
    readonly runner?: WakeLockRunner;
    /** The process caffeinate watches (-w): it exits with it, even after a SIGKILL. Default this process. */
    readonly pid?: number;
    readonly logger?: Logger | undefined;
}

/**
 * Keeps a Mac from idle-sleeping while the worker holds a shard, and only then: `caffeinate -i -w
 * <pid>` runs from the first shard taken to the last one ended, so a spare Mac waiting for work (or
 * paused by the spare-machine policy) sleeps as usual. A no-op on other systems (a Linux server does
 * not idle-sleep; a systemd user service has no such assertion to take).
 */
export class ShardWakeLock {
    readonly #enabled: boolean;
    readonly #runner: WakeLockRunner;
    readonly #pid: number;
    readonly #log: Logger | undefined;
    #held = 0;
    #process: WakeLockProcess | undefined;

    public constructor(options: ShardWakeLockOptions = {}) {
        this.#enabled = (options.platform ?? process.platform) === "darwin";
        this.#log = options.logger;
        this.#runner = options.runner ?? spawnWakeLockRunner(this.#log);
        this.#pid = options.pid ?? process.pid;
    }

    /** Holds the lock for one shard; the function returned releases it (idempotent). */
    public hold(): () => void {
        if (!this.#enabled) return () => undefined;
        if (this.#held++ === 0) this.#process = this.#runner.start("caffeinate", ["-i", "-w", String(this.#pid)]);
        let released = false;
        return () => {
            if (released) return;
            released = true;
            if (--this.#held === 0) this.#stop();
        };
    }

    /** Stops the keep-awake process whatever is held (the worker is closing). Idempotent. */
    public close(): void {
        this.#held = 0;
        this.#stop();
    }

    #stop(): void {
        this.#process?.stop();
        this.#process = undefined;
    }
}

/** Spawns the command detached from the terminal; a missing caffeinate is logged, never fatal (the shard goes on, the Mac may sleep). */
export function spawnWakeLockRunner(logger: Logger | undefined): WakeLockRunner {
    return {
        start(command, args) {
            const child = spawn(command, args, {stdio: "ignore"});
            child.on("error", (error) => logger?.warn({err: error.message}, `${command} did not start: the Mac may sleep during shards`));
            return {stop: () => child.kill("SIGTERM")};
        }
    };
}
