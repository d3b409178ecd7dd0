import {OrchardError, redactRedisUrl, type Logger} from "@orchard/shared";
import {Redis} from "ioredis";

const CONNECT_TIMEOUT_MS = 15_000;

/**
 * The worker's ioredis client: `maxRetriesPerRequest: null` as BullMQ workers require, reconnecting
 * forever (a worker outlives Redis restarts and network cuts). REDIS_UNAVAILABLE if Redis does not
 * answer at startup. (The coordinator has its own twin: the packages never import each other.)
 */
export async function connectWorkerRedis(url: string, options: {logger?: Logger; name?: string} = {}): Promise<Redis> {
    let client: Redis;
    try {
        client = new Redis(url, {
            maxRetriesPerRequest: null,
            enableReadyCheck: true,
            connectionName: options.name,
            retryStrategy: (times) => Math.min(times * 200, 2000)
        });
    } catch (error) {
        throw new OrchardError("INVALID_ARGUMENT", `invalid Redis URL ${redactRedisUrl(url)}: ${(error as Error).message}`, {cause: error});
    }
    let lastWarning = 0;
    client.on("error", (error: Error) => {
        if (Date.now() - lastWarning > 5000) {
            lastWarning = Date.now();
            options.logger?.warn({err: error.message, url: redactRedisUrl(url)}, "Redis connection problem; retrying");
        }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            client.ping(),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
            })
        ]);
    } catch (error) {
        client.disconnect();
        throw new OrchardError("REDIS_UNAVAILABLE", `cannot reach Redis at ${redactRedisUrl(url)}: ${(error as Error).message}`, {cause: error});
    } finally {
        clearTimeout(timer);
    }
    return client;
}
