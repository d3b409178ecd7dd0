import {randomBytes} from "node:crypto";
import {hostname} from "node:os";
import {
    FleetKeys, isLoopbackHost, MODEL_SOURCE_REFRESH_MS, MODEL_SOURCE_TTL_MS, modelFingerprint, type Logger, type ModelFingerprint, type ModelSource
} from "@orchard/shared";
import type {Redis} from "ioredis";
import {modelSha256} from "./model-digest.ts";
import {ModelServer} from "./model-server.ts";

export interface ServeModelOptions {
    /** The GGUF file. */
    readonly modelPath: string;
    /** Its fingerprint when the caller already has it (`orchard run` does). */
    readonly fingerprint?: ModelFingerprint;
    /** The fleet's Redis: where the address, digests and token are recorded. */
    readonly redis: Redis;
    readonly keyPrefix: string;
    /** Where the file's SHA-256 is remembered (`<state dir>/model-digests/`). */
    readonly stateDir: string;
    /** Listen address: 127.0.0.1 (this machine's workers only), 0.0.0.0 (the LAN), or one interface. */
    readonly host: string;
    /** 0: any free port. */
    readonly port: number;
    readonly logger?: Logger;
}

/** Deletes the record only if it is still this server's (another server of the same model may have replaced it). */
const DELETE_IF_OURS = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
/** Refreshes the record's expiry, or writes it again if it expired (Redis was down for a while). */
const REFRESH = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end ` +
    `if redis.call("EXISTS", KEYS[1]) == 0 then return redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) end return 0`;

/**
 * A model served to the fleet (`orchard run --serve-model`, `orchard serve-model`): its whole-file
 * SHA-256 computed (or remembered), a ModelServer with a fresh random token, and the record
 * workers look up (FleetKeys.modelSource: address, fingerprint, size, SHA-256, token), refreshed
 * while it serves and expiring by itself if this process dies. close() deletes the record first,
 * then stops the server. The token lives only in memory and in Redis: never on a command line or
 * in a log line.
 */
export class ServedModel implements AsyncDisposable {
    public readonly source: ModelSource;
    readonly #server: ModelServer;
    readonly #redis: Redis;
    readonly #key: string;
    readonly #record: string;
    readonly #timer: NodeJS.Timeout;
    readonly #log: Logger | undefined;
    #closing: Promise<void> | undefined;

    private constructor(init: {source: ModelSource; server: ModelServer; redis: Redis; key: string; record: string; logger: Logger | undefined}) {
        this.source = init.source;
        this.#server = init.server;
        this.#redis = init.redis;
        this.#key = init.key;
        this.#record = init.record;
        this.#log = init.logger;
        this.#timer = setInterval(() => {
            this.#redis.eval(REFRESH, 1, this.#key, this.#record, String(MODEL_SOURCE_TTL_MS))
                .catch((error: unknown) => this.#log?.warn({err: (error as Error).message}, "could not refresh the served model's record in Redis; retrying"));
        }, MODEL_SOURCE_REFRESH_MS);
        this.#timer.unref();
    }

    public static async start(options: ServeModelOptions): Promise<ServedModel> {
        const log = options.logger?.child({component: "served-model"});
        const fingerprint = options.fingerprint ?? await modelFingerprint(options.modelPath);
        // before the server listens: a worker must never see a record without the digest it checks
        const sha256 = await modelSha256(options.modelPath, options.stateDir, log);
        const token = randomBytes(32).toString("base64url");
        const urlPath = `/models/${fingerprint.fingerprint}.gguf`;
        const server = await ModelServer.start({path: options.modelPath, urlPath, token, host: options.host, port: options.port, ...(log === undefined ? {} : {logger: log})});
        const source: ModelSource = {
            v: 1, url: `http://${advertisedHost(options.host)}:${server.port}${urlPath}`, token, fingerprint: fingerprint.fingerprint,
            sizeBytes: fingerprint.sizeBytes, sha256, ...(fingerprint.name === undefined ? {} : {name: fingerprint.name}),
            servedBy: hostname().slice(0, 256), startedAt: new Date().toISOString()
        };
        const key = new FleetKeys(options.keyPrefix).modelSource(fingerprint.fingerprint);
        const record = JSON.stringify(source);
        try {
            await options.redis.set(key, record, "PX", MODEL_SOURCE_TTL_MS);
        } catch (error) {
            await server.close();
            throw error;
        }
        log?.info({url: source.url, fingerprint: source.fingerprint, sizeBytes: source.sizeBytes, sha256}, `serving the model to the fleet at ${source.url}`);
        return new ServedModel({source, server, redis: options.redis, key, record, logger: log});
    }

    /** Forgets the record (if still ours), then stops serving. Idempotent. */
    public close(): Promise<void> {
        this.#closing ??= (async () => {
            clearInterval(this.#timer);
            await this.#redis.eval(DELETE_IF_OURS, 1, this.#key, this.#record)
                .catch((error: unknown) => this.#log?.warn({err: (error as Error).message}, "could not delete the served model's record; it expires by itself"));
            await this.#server.close();
        })();
        return this.#closing;
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

/**
 * The host workers are told to use: loopback as 127.0.0.1, a wildcard as this machine's host
 * name (what `orchard run --redis-bind 0.0.0.0` prints for Redis too), an address as itself.
 */
function advertisedHost(bind: string): string {
    if (isLoopbackHost(bind)) return "127.0.0.1";
    const host = bind === "0.0.0.0" || bind === "::" ? hostname() : bind;
    return host.includes(":") ? `[${host}]` : host;
}
