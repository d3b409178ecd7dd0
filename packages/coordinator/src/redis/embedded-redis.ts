import {spawn, type ChildProcess} from "node:child_process";
import {randomBytes} from "node:crypto";
import {access, chmod, constants, readFile, rename, rm, writeFile} from "node:fs/promises";
import {hostname} from "node:os";
import {delimiter, join, resolve} from "node:path";
import {
    embeddedRedisEndpointPath, embeddedRedisEndpointSchema, embeddedRedisUrl, isProcessAlive, openPrivateStateDir, OrchardError,
    PRIVATE_FILE_MODE, type EmbeddedRedisEndpoint, type Logger
} from "@orchard/shared";
import {findFreePort, isPortFree} from "./free-port.ts";
import {pingRedis} from "./ping-redis.ts";

export interface EmbeddedRedisOptions {
    /** The state folder (made private: mode 700, files 600); data (AOF) lives in `<stateDir>/redis`. */
    readonly stateDir: string;
    /**
     * Address to listen on. Default "127.0.0.1" (this machine only; "0.0.0.0" lets other Macs join).
     * Either way the server has a password, generated once and kept in the folder (mode 600): on
     * loopback too, since every local user can reach 127.0.0.1.
     */
    readonly bind?: string;
    /** The redis-server executable. Default "redis-server" from PATH. */
    readonly binary?: string;
    /** Milliseconds to wait for the server to accept commands (AOF loading included). Default 60,000. */
    readonly startTimeoutMs?: number;
    readonly logger?: Logger;
    /** Called when the server died and could not be brought back: the run cannot go on. */
    readonly onFatal?: (error: OrchardError) => void;
}

/** Restarts allowed per minute before the embedded Redis is declared dead. */
const MAX_RESTARTS_PER_MINUTE = 5;
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * A private redis-server for one machine's fleet: the default when no Redis URL is given. Its
 * settings, password included, go in a config file of mode 600, never on its command line (which
 * every local user can read in `ps`); it runs with umask 077, so its AOF and log are 600. Data
 * persists under the state folder with AOF (appendfsync everysec, noeviction), so a run resumed
 * after a crash finds its state. The server is supervised: if it dies it is restarted on the same
 * port (workers reconnect by themselves). A server left running by a coordinator that was killed
 * is adopted rather than started twice over the same files. `stop()` shuts it down cleanly.
 */
export class EmbeddedRedis {
    public readonly dir: string;
    public readonly host: string;
    public readonly password: string | undefined;
    #port: number;
    #pid: number;
    #child: ChildProcess | undefined;
    #adoptedWatch: NodeJS.Timeout | undefined;
    #stopping = false;
    #restarts: number[] = [];
    readonly #options: EmbeddedRedisOptions;
    readonly #log: Logger | undefined;

    private constructor(options: EmbeddedRedisOptions, init: {host: string; port: number; pid: number; password: string | undefined; child?: ChildProcess}) {
        this.#options = options;
        this.#log = options.logger?.child({component: "embedded-redis"});
        this.dir = join(resolve(options.stateDir), "redis");
        this.host = init.host;
        this.password = init.password;
        this.#port = init.port;
        this.#pid = init.pid;
        this.#child = init.child;
    }

    /** Starts (or adopts) the embedded Redis of `options.stateDir`. */
    public static async start(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
        const dir = join(resolve(options.stateDir), "redis");
        const bind = options.bind ?? "127.0.0.1";
        const log = options.logger?.child({component: "embedded-redis"});
        // the AOF holds every document and result: owner only, tightened if an older folder was looser
        await openPrivateStateDir(resolve(options.stateDir));
        await openPrivateStateDir(dir);
        const previous = await readEndpoint(options.stateDir);
        if (previous !== undefined && isProcessAlive(previous.pid)) {
            if (previous.ownerPid !== process.pid && previous.ownerHost === hostname() && isProcessAlive(previous.ownerPid))
                throw new OrchardError("RUN_BUSY",
                    `the embedded Redis in ${dir} belongs to another orchard process (pid ${previous.ownerPid}); ` +
                    "`orchard worker`, `status` and `dashboard` with the same --state-dir join it (they read its address and password there), " +
                    "or give this command another --state-dir");
            if (await pingRedis(previous.host, previous.port, previous.password)) {
                // its coordinator was killed: take it over instead of starting a second server on the same files
                log?.info({pid: previous.pid, port: previous.port}, "adopting the embedded Redis left running by a previous coordinator");
                const adopted = new EmbeddedRedis(options, {host: previous.host, port: previous.port, pid: previous.pid, password: previous.password});
                await adopted.#writeEndpoint();
                adopted.#watchAdopted();
                return adopted;
            }
        }
        const binary = await findBinary(options.binary ?? "redis-server");
        const password = await loadOrCreatePassword(dir);
        const host = LOOPBACK.has(bind) ? "127.0.0.1" : bind === "0.0.0.0" || bind === "::" ? "127.0.0.1" : bind;
        const preferred = previous !== undefined && await isPortFree(previous.port, host) ? previous.port : undefined;
        const instance = new EmbeddedRedis(options, {host, port: preferred ?? 0, pid: 0, password});
        await instance.#spawn(binary, bind, preferred === undefined);
        return instance;
    }

    /** URL for clients on this machine (workers started beside the coordinator, admin commands). */
    public get url(): string {
        return embeddedRedisUrl({host: this.host, port: this.#port, password: this.password});
    }

    /** URL other machines can use (this machine's host name); undefined when listening on loopback only. */
    public get publicUrl(): string | undefined {
        const bind = this.#options.bind ?? "127.0.0.1";
        return LOOPBACK.has(bind) ? undefined : embeddedRedisUrl({host: hostname(), port: this.#port, password: this.password});
    }

    public get port(): number {
        return this.#port;
    }

    /** Process id of the redis-server (tests kill it to check recovery). */
    public get pid(): number {
        return this.#pid;
    }

    /** Shuts the server down (SIGTERM: Redis fsyncs its AOF first) and waits for it to exit. Idempotent. */
    public async stop(): Promise<void> {
        if (this.#stopping) return;
        this.#stopping = true;
        if (this.#adoptedWatch !== undefined) clearInterval(this.#adoptedWatch);
        const pid = this.#pid;
        const child = this.#child;
        if (child !== undefined && child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(timer);
        } else if (child === undefined && isProcessAlive(pid)) {
            process.kill(pid, "SIGTERM");
            for (let waited = 0; isProcessAlive(pid) && waited < 10_000; waited += 50) await sleep(50);
            if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
        }
        await rm(embeddedRedisEndpointPath(this.#options.stateDir), {force: true});
        this.#log?.info("embedded Redis stopped");
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.stop();
    }

    async #spawn(binary: string, bind: string, anyPort: boolean): Promise<void> {
        for (let attempt = 0; ; attempt++) {
            if (anyPort) this.#port = await findFreePort(this.host);
            const config = await this.#writeConfig(bind);
            // redis-server creates its AOF and log with our umask: make them the owner's only
            const umask = process.umask(0o077);
            let child: ChildProcess;
            try {
                child = spawn(binary, [config], {cwd: this.dir, stdio: "ignore", detached: false});
            } finally {
                process.umask(umask);
            }
            const early = new Promise<string>((resolveExit) => {
                child.once("error", (error) => resolveExit(error.message));
                child.once("exit", (code, signal) => resolveExit(`exited with ${signal ?? `code ${code}`}`));
            });
            const ready = await Promise.race([this.#waitReady(), early]);
            if (ready === true) {
                this.#child = child;
                this.#pid = child.pid as number;
                child.once("exit", (code, signal) => void this.#onExit(binary, bind, code, signal));
                await this.#writeEndpoint();
                this.#log?.info({port: this.#port, pid: this.#pid, dir: this.dir}, "embedded Redis ready");
                return;
            }
            child.kill("SIGKILL");
            const reason = typeof ready === "string" ? ready : "did not answer in time";
            const logTail = await readFile(join(this.dir, "redis.log"), "utf8").then((text) => text.trim().split("\n").slice(-3).join(" | "), () => "");
            // another process may have taken the port between our probe and redis binding it
            if (attempt < 2 && /address already in use/i.test(logTail)) {
                anyPort = true;
                continue;
            }
            throw new OrchardError("REDIS_UNAVAILABLE", `the embedded redis-server ${reason}${logTail === "" ? "" : `: ${logTail}`} (log: ${join(this.dir, "redis.log")})`);
        }
    }

    /** redis.conf in the data folder, mode 600 from its first byte (it holds the password); returns its path. */
    async #writeConfig(bind: string): Promise<string> {
        const lines = [
            "# Written by Orchard at every start of the embedded Redis: edits are lost.",
            `port ${this.#port}`, `bind ${bind}`, `dir ${redisConfigString(this.dir)}`,
            "appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction", 'save ""', "daemonize no", "logfile redis.log",
            ...(this.password === undefined ? [] : [`requirepass ${redisConfigString(this.password)}`]),
            // beyond loopback the password guards it; protected mode would refuse other machines
            ...(LOOPBACK.has(bind) ? [] : ["protected-mode no"])
        ];
        const path = join(this.dir, "redis.conf");
        await rm(`${path}.tmp`, {force: true});
        await writeFile(`${path}.tmp`, lines.join("\n") + "\n", {mode: PRIVATE_FILE_MODE});
        await rename(`${path}.tmp`, path);
        return path;
    }

    async #waitReady(): Promise<true | undefined> {
        const deadline = Date.now() + (this.#options.startTimeoutMs ?? 60_000);
        while (Date.now() < deadline) {
            if (await pingRedis(this.host, this.#port, this.password, 500)) return true;
            await sleep(50);
        }
        return undefined;
    }

    async #onExit(binary: string, bind: string, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
        if (this.#stopping) return;
        const now = Date.now();
        this.#restarts = this.#restarts.filter((at) => now - at < 60_000);
        if (this.#restarts.length >= MAX_RESTARTS_PER_MINUTE) {
            this.#options.onFatal?.(new OrchardError("REDIS_UNAVAILABLE",
                `the embedded Redis died ${MAX_RESTARTS_PER_MINUTE} times within a minute; see ${join(this.dir, "redis.log")}`));
            return;
        }
        this.#restarts.push(now);
        this.#log?.warn({code, signal, port: this.#port}, "embedded Redis exited unexpectedly; restarting it on the same port from its AOF");
        try {
            // same port, so that workers (here and on other machines) reconnect by themselves
            await this.#spawn(binary, bind, false);
        } catch (error) {
            if (!this.#stopping)
                this.#options.onFatal?.(error instanceof OrchardError ? error : new OrchardError("REDIS_UNAVAILABLE", `could not restart the embedded Redis: ${String(error)}`, {cause: error}));
        }
    }

    /** An adopted server is not our child: poll its pid, and start our own on its port if it dies. */
    #watchAdopted(): void {
        this.#adoptedWatch = setInterval(() => {
            if (this.#stopping || isProcessAlive(this.#pid)) return;
            clearInterval(this.#adoptedWatch);
            this.#adoptedWatch = undefined;
            void findBinary(this.#options.binary ?? "redis-server")
                .then((binary) => this.#onExit(binary, this.#options.bind ?? "127.0.0.1", null, null))
                .catch((error: unknown) => this.#options.onFatal?.(error as OrchardError));
        }, 500);
        this.#adoptedWatch.unref();
    }

    async #writeEndpoint(): Promise<void> {
        const endpoint: EmbeddedRedisEndpoint = {
            pid: this.#pid, host: this.host, port: this.#port, ...(this.password === undefined ? {} : {password: this.password}),
            ownerPid: process.pid, ownerHost: hostname(), startedAt: new Date().toISOString()
        };
        const path = embeddedRedisEndpointPath(this.#options.stateDir);
        // written then renamed, so that a reader never sees half a file; a fresh file, so mode 600 holds
        await rm(`${path}.tmp`, {force: true});
        await writeFile(`${path}.tmp`, JSON.stringify(endpoint) + "\n", {mode: PRIVATE_FILE_MODE});
        await rename(`${path}.tmp`, path);
    }
}

async function readEndpoint(stateDir: string): Promise<EmbeddedRedisEndpoint | undefined> {
    try {
        const parsed = embeddedRedisEndpointSchema.safeParse(JSON.parse(await readFile(embeddedRedisEndpointPath(stateDir), "utf8")));
        return parsed.success ? parsed.data : undefined;
    } catch {
        return undefined;
    }
}

/** A string as redis.conf reads it: double-quoted, with backslash, quote and control characters escaped. */
function redisConfigString(value: string): string {
    return `"${value.replace(/[\\"\x00-\x1f\x7f]/g, (char) => char === "\\" || char === '"' ? `\\${char}` : `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;
}

async function loadOrCreatePassword(dir: string): Promise<string> {
    const path = join(dir, "password");
    try {
        const existing = (await readFile(path, "utf8")).trim();
        if (existing !== "") return existing;
    } catch {
        // first start: create it below
    }
    // kept across restarts, so that workers on other machines keep working after a coordinator restart
    const password = randomBytes(18).toString("base64url");
    await writeFile(path, password + "\n", {mode: PRIVATE_FILE_MODE});
    await chmod(path, PRIVATE_FILE_MODE);
    return password;
}

/** The executable's path, or a REDIS_UNAVAILABLE that says how to install it. */
async function findBinary(name: string): Promise<string> {
    const candidates = name.includes("/") ? [name] : (process.env["PATH"] ?? "").split(delimiter).filter((dir) => dir !== "").map((dir) => join(dir, name));
    for (const candidate of candidates) {
        try {
            await access(candidate, constants.X_OK);
            return candidate;
        } catch {
            // keep looking
        }
    }
    throw new OrchardError("REDIS_UNAVAILABLE",
        `${name} was not found on PATH, and the fleet needs Redis. Install it (macOS: brew install redis; ` +
        "Debian/Ubuntu: sudo apt-get install redis-server), or point Orchard at a running Redis with --redis redis://host:port (or ORCHARD_REDIS_URL)");
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
