import {execFile, spawn, type ChildProcess} from "node:child_process";
import {readFileSync} from "node:fs";
import {mkdtemp, rm} from "node:fs/promises";
import {createServer, connect} from "node:net";
import {tmpdir} from "node:os";
import {connect as tlsConnect} from "node:tls";
import {join} from "node:path";
import type {StartedTestContainer} from "testcontainers";
import {chooseRedisBackend, systemRedisBackendProbes, TEST_REDIS_ENV, TEST_REDIS_IMAGE, type TestRedisBackend} from "./redis-backend.ts";

export interface TestRedisOptions {
    /** AOF with appendfsync everysec (production settings). Default false: faster, nothing on disk. */
    readonly appendOnly?: boolean;
    /** requirepass. Default none. */
    readonly password?: string;
    /** TLS only (no plain port), with this certificate and key (PEM files); clients need not present one. */
    readonly tls?: {readonly certFile: string; readonly keyFile: string};
}

/** The backend of this test process, chosen once (ORCHARD_TEST_REDIS; see redis-backend.ts). */
let backend: Promise<TestRedisBackend> | undefined;

/**
 * A real Redis for a test file. By default a redis-server on a free loopback port, with its own
 * temporary folder, killed and restarted on demand (same port, same data folder, so AOF recovery is
 * exercised), removed by `stop()`. With ORCHARD_TEST_REDIS=container (or no redis-server but a
 * container engine), a Redis 7 container instead: TLS, kill/restart and redis-cli need the spawned
 * server, and a test that uses them says so. Tests never mock Redis.
 */
export class TestRedisServer {
    public readonly port: number;
    public readonly dir: string;
    readonly #options: TestRedisOptions;
    readonly #host: string;
    #child: ChildProcess | undefined;
    #container: StartedTestContainer | undefined;

    private constructor(port: number, dir: string, options: TestRedisOptions, host = "127.0.0.1") {
        this.port = port;
        this.dir = dir;
        this.#options = options;
        this.#host = host;
    }

    public static async start(options: TestRedisOptions = {}): Promise<TestRedisServer> {
        backend ??= chooseRedisBackend(process.env[TEST_REDIS_ENV], systemRedisBackendProbes);
        const kind = await backend;
        const dir = await mkdtemp(join(tmpdir(), "orchard-redis-"));
        if (kind === "container") return TestRedisServer.#startContainer(dir, options).catch(async (error: unknown) => {
            await rm(dir, {recursive: true, force: true});
            throw error;
        });
        const server = new TestRedisServer(await freePort(), dir, options);
        await server.#spawn();
        return server;
    }

    static async #startContainer(dir: string, options: TestRedisOptions): Promise<TestRedisServer> {
        if (options.tls !== undefined) throw new Error(`a TLS test Redis needs redis-server (${TEST_REDIS_ENV}=spawn)`);
        // loaded only here: a machine with redis-server never loads testcontainers
        const {GenericContainer, Wait} = await import("testcontainers");
        const container = await new GenericContainer(TEST_REDIS_IMAGE)
            .withExposedPorts(6379)
            .withCommand(["redis-server", ...redisSettings(options), ...(options.password === undefined ? [] : ["--requirepass", options.password])])
            .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
            .start();
        const server = new TestRedisServer(container.getMappedPort(6379), dir, options, container.getHost());
        server.#container = container;
        return server;
    }

    public get url(): string {
        return `${this.#options.tls === undefined ? "redis" : "rediss"}://${this.#options.password === undefined ? "" : `:${encodeURIComponent(this.#options.password)}@`}${this.#host}:${this.port}`;
    }

    public get pid(): number | undefined {
        return this.#child?.pid;
    }

    /** Runs one Redis command through redis-cli (installed with redis-server) and returns its raw answer. */
    public command(...args: string[]): Promise<string> {
        this.#needsSpawned("redis-cli");
        const auth = [
            ...(this.#options.password === undefined ? [] : ["-a", this.#options.password, "--no-auth-warning"]),
            ...(this.#options.tls === undefined ? [] : ["--tls", "--cacert", this.#options.tls.certFile])
        ];
        return new Promise((resolve, reject) => {
            execFile("redis-cli", ["-p", String(this.port), ...auth, ...args], (error, stdout) => (error === null ? resolve(stdout.trim()) : reject(error)));
        });
    }

    /** Kills the server (SIGKILL by default: no AOF flush beyond what everysec already wrote). */
    public async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
        if (this.#container !== undefined && signal === "SIGKILL") this.#needsSpawned("kill()");
        const child = this.#child;
        this.#child = undefined;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill(signal);
        await exited;
    }

    /** Starts the server again on the same port and folder. */
    public async restart(): Promise<void> {
        this.#needsSpawned("restart()");
        await this.kill();
        await this.#spawn();
    }

    /** Stops the server and removes its folder. Idempotent. */
    public async stop(): Promise<void> {
        const container = this.#container;
        this.#container = undefined;
        await container?.stop();
        await this.kill("SIGTERM");
        await rm(this.dir, {recursive: true, force: true});
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.stop();
    }

    #needsSpawned(what: string): void {
        if (this.#container !== undefined) throw new Error(`${what} needs a spawned redis-server (${TEST_REDIS_ENV}=spawn): the test Redis is a container`);
    }

    async #spawn(): Promise<void> {
        const args = [
            ...(this.#options.tls === undefined ? ["--port", String(this.port)] : [
                "--port", "0", "--tls-port", String(this.port), "--tls-cert-file", this.#options.tls.certFile, "--tls-key-file", this.#options.tls.keyFile,
                "--tls-ca-cert-file", this.#options.tls.certFile, "--tls-auth-clients", "no"
            ]),
            "--bind", "127.0.0.1", "--dir", this.dir, "--daemonize", "no", "--logfile", "redis.log",
            ...redisSettings(this.#options),
            ...(this.#options.password === undefined ? [] : ["--requirepass", this.#options.password])
        ];
        const child = spawn("redis-server", args, {stdio: "ignore"});
        this.#child = child;
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
            if (child.exitCode !== null) throw new Error(`redis-server exited at startup (see ${join(this.dir, "redis.log")})`);
            if (await answersPing(this.port, this.#options.password, this.#options.tls?.certFile)) return;
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error("redis-server did not start within 20 s");
    }
}

/** The settings every test Redis runs with, spawned or in a container: production's eviction and AOF, no RDB snapshots. */
function redisSettings(options: TestRedisOptions): string[] {
    return ["--save", "", "--maxmemory-policy", "noeviction", "--appendonly", options.appendOnly === true ? "yes" : "no", "--appendfsync", "everysec"];
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

function answersPing(port: number, password: string | undefined, caFile: string | undefined): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = caFile === undefined ? connect({host: "127.0.0.1", port}) : tlsConnect({host: "127.0.0.1", port, ca: readFileSync(caFile)});
        let answer = "";
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(500, () => done(false));
        socket.once("error", () => done(false));
        socket.on("data", (chunk) => {
            answer += chunk.toString();
            if (answer.includes("+PONG")) done(true);
            else if (answer.includes("-")) done(false);
        });
        socket.once(caFile === undefined ? "connect" : "secureConnect", () => socket.write(`${password === undefined ? "" : `AUTH ${password}\r\n`}PING\r\n`));
    });
}
