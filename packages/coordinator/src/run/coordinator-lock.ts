import {randomBytes} from "node:crypto";
import {hostname} from "node:os";
import {isProcessAlive, OrchardError, type Logger} from "@orchard/shared";
import type {Redis} from "ioredis";

export interface CoordinatorLockOptions {
    /** Lock time-to-live, renewed every third of it. Default 15,000 ms. */
    readonly ttlMs?: number;
    /** How long to wait for a lock held by a coordinator that may be dead. Default ttl + 5 s. */
    readonly waitMs?: number;
    readonly logger?: Logger;
    /** Called once if the lock is lost (another coordinator took the run): the holder must stop writing. */
    readonly onLost?: (error: OrchardError) => void;
}

interface LockValue {
    readonly host: string;
    readonly pid: number;
    readonly token: string;
}

// renew only our own lock; re-take it when Redis lost it (a restart that dropped the last second of AOF)
const RENEW_SCRIPT = `
local value = redis.call("GET", KEYS[1])
if value == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
if value == false then redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) return 2 end
return 0`;
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/**
 * One coordinator per run: two would both append to the same output files. A Redis key with a TTL,
 * renewed while the coordinator lives; a coordinator that was killed leaves a lock that expires,
 * or that the next one on the same machine takes over at once when the holder's pid is gone.
 */
export class CoordinatorLock {
    readonly #redis: Redis;
    readonly #key: string;
    readonly #value: string;
    readonly #ttlMs: number;
    readonly #timer: NodeJS.Timeout;
    #released = false;

    private constructor(redis: Redis, key: string, value: string, ttlMs: number, options: CoordinatorLockOptions) {
        this.#redis = redis;
        this.#key = key;
        this.#value = value;
        this.#ttlMs = ttlMs;
        this.#timer = setInterval(() => {
            this.#redis.eval(RENEW_SCRIPT, 1, this.#key, this.#value, String(this.#ttlMs)).then((result) => {
                if (result === 0 && !this.#released) {
                    clearInterval(this.#timer);
                    options.onLost?.(new OrchardError("RUN_BUSY", "another coordinator took over this run; stopping without writing more"));
                }
            }, (error: unknown) => options.logger?.warn({err: error}, "could not renew the coordinator lock; retrying"));
        }, Math.max(100, Math.floor(ttlMs / 3)));
        this.#timer.unref();
    }

    public static async acquire(redis: Redis, key: string, runId: string, options: CoordinatorLockOptions = {}): Promise<CoordinatorLock> {
        const ttlMs = options.ttlMs ?? 15_000;
        const deadline = Date.now() + (options.waitMs ?? ttlMs + 5_000);
        const value = JSON.stringify({host: hostname(), pid: process.pid, token: randomBytes(8).toString("hex")} satisfies LockValue);
        let told = false;
        for (;;) {
            if (await redis.set(key, value, "PX", ttlMs, "NX") === "OK") return new CoordinatorLock(redis, key, value, ttlMs, options);
            const raw = await redis.get(key);
            const holder = parseValue(raw);
            if (holder !== undefined && holder.host === hostname() && !isProcessAlive(holder.pid)) {
                // the previous coordinator of this machine is gone: no need to wait for its lock to expire
                await redis.eval(RELEASE_SCRIPT, 1, key, raw as string);
                continue;
            }
            if (Date.now() >= deadline)
                throw new OrchardError("RUN_BUSY", `run ${runId} is being coordinated by ${holder === undefined ? "another process" : `pid ${holder.pid} on ${holder.host}`}; ` +
                    "wait for it to finish, or stop it first");
            if (!told) {
                options.logger?.info({holder}, "waiting for the previous coordinator's lock on this run to expire");
                told = true;
            }
            await new Promise((resolve) => setTimeout(resolve, 500));
        }
    }

    public async release(): Promise<void> {
        if (this.#released) return;
        this.#released = true;
        clearInterval(this.#timer);
        await this.#redis.eval(RELEASE_SCRIPT, 1, this.#key, this.#value).catch(() => undefined);
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.release();
    }
}

function parseValue(text: string | null): LockValue | undefined {
    if (text === null) return undefined;
    try {
        const value = JSON.parse(text) as Partial<LockValue>;
        return typeof value.host === "string" && typeof value.pid === "number" && typeof value.token === "string" ? value as LockValue : undefined;
    } catch {
        return undefined;
    }
}
