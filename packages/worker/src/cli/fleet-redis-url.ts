import {embeddedRedisUrl, OrchardError, readLiveEmbeddedRedisEndpoint, readOrchardEnvironment, readRedisUrlFile} from "@orchard/shared";

/**
 * The fleet's Redis URL for a worker-side command: --redis, else --redis-url-file, else
 * ORCHARD_REDIS_URL, else the embedded Redis of `orchard run` in --state-dir.
 */
export async function fleetRedisUrl(args: {readonly redis?: string | undefined; readonly redisUrlFile?: string | undefined; readonly stateDir: string}): Promise<string> {
    if (args.redis !== undefined && args.redisUrlFile !== undefined)
        throw new OrchardError("INVALID_ARGUMENT", "give the Redis URL with --redis or --redis-url-file, not both");
    const given = args.redis ?? (args.redisUrlFile === undefined ? undefined : readRedisUrlFile(args.redisUrlFile)) ?? readOrchardEnvironment().redisUrl;
    if (given !== undefined) return given;
    const live = await readLiveEmbeddedRedisEndpoint(args.stateDir);
    if (live === undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            "no Redis to join: pass --redis <url> (the URL `orchard run` prints), set ORCHARD_REDIS_URL, " +
            `or start \`orchard run\` in this folder first (no embedded Redis is running under ${args.stateDir})`);
    return embeddedRedisUrl(live);
}
