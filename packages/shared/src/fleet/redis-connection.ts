import {OrchardError} from "../errors/orchard-error.ts";
import type {Logger} from "../logging/create-logger.ts";
import {redactRedisUrl} from "./fleet-keys.ts";
import {settleWithin} from "./settle-within.ts";
import {Redis} from "ioredis";

/** Milliseconds to wait for Redis to answer before giving up at startup. */
const CONNECT_TIMEOUT_MS = 15_000;
/** How long closeRedis waits for QUIT's reply before it drops the socket. */
const QUIT_WITHIN_MS = 5_000;
/** Node's codes for a TLS peer certificate that does not verify (rediss:// to a self-signed or private-CA Redis). */
const TLS_TRUST_ERRORS = new Set([
    "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_UNTRUSTED"
]);

/**
 * An ioredis client for the fleet, coordinator and workers alike: `maxRetriesPerRequest: null`
 * (BullMQ requires it, and a command then waits through a Redis restart instead of failing
 * half-way through a merge), reconnecting forever. Accepts redis://[:password@]host:port[/db] and
 * rediss:// (TLS). Throws REDIS_UNAVAILABLE when Redis does not answer at startup, rather than hanging.
 */
export async function connectRedis(url: string, options: {
    logger?: Logger;
    name?: string;
    /** Longest pause between reconnection attempts. Default 1000 ms: an embedded Redis is back within a second or two. */
    maxReconnectDelayMs?: number;
} = {}): Promise<Redis> {
    const maxDelay = options.maxReconnectDelayMs ?? 1000;
    const log = options.logger?.child({component: "redis"});
    let client: Redis;
    try {
        client = new Redis(url, {
            maxRetriesPerRequest: null,
            enableReadyCheck: true,
            connectionName: options.name,
            retryStrategy: (times) => Math.min(times * 100, maxDelay)
        });
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `invalid Redis URL ${redactRedisUrl(url)}: ${(error as Error).message}`, {cause: error});
    }
    let lastWarning = 0;
    let lastError: Error | undefined;
    // a certificate the client does not trust stays untrusted: say so at once instead of retrying
    let rejectUntrusted: (error: Error) => void = () => undefined;
    const untrusted = new Promise<never>((_, reject) => (rejectUntrusted = reject));
    untrusted.catch(() => undefined);
    client.on("error", (error: Error) => {
        lastError = error;
        if (TLS_TRUST_ERRORS.has((error as NodeJS.ErrnoException).code ?? "")) rejectUntrusted(error);
        // ioredis repeats connection errors on every retry: say it once in a while, not 10 times a second
        if (Date.now() - lastWarning > 5000) {
            lastWarning = Date.now();
            log?.warn({err: error.message, url: redactRedisUrl(url)}, "Redis connection problem; retrying");
        }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            client.ping(),
            untrusted,
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s` +
                    (lastError === undefined ? "" : ` (last error: ${lastError.message})`))), CONNECT_TIMEOUT_MS);
            })
        ]);
    } catch (error) {
        client.disconnect();
        const code = (error as NodeJS.ErrnoException).code ?? "";
        const hint = TLS_TRUST_ERRORS.has(code)
            ? `; the server's TLS certificate is not trusted (${code}): give Node the CA that signed it with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`
            : "";
        throw new OrchardError("REDIS_UNAVAILABLE", `cannot reach Redis at ${redactRedisUrl(url)}: ${(error as Error).message}${hint}`, {cause: error});
    } finally {
        clearTimeout(timer);
    }
    return client;
}

/**
 * Closes a client: QUIT when connected (flushes pending replies), else drops the socket. QUIT waits
 * for its reply, which a frozen Redis or a cut network never sends (a dead TCP connection takes
 * ~15 minutes to fail by itself): past `quitWithinMs` the socket is dropped instead.
 */
export async function closeRedis(client: Redis, quitWithinMs = QUIT_WITHIN_MS): Promise<void> {
    let quit = false;
    if (client.status === "ready") await settleWithin(client.quit().then(() => (quit = true)), quitWithinMs);
    if (!quit) client.disconnect();
}
