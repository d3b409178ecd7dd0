import {
    browseFleets, DEFAULT_BROWSE_MS, embeddedRedisUrl, OrchardError, readLiveEmbeddedRedisEndpoint, readOrchardEnvironment, readRedisUrlFile, type BrowseResult, type Logger
} from "@orchard/shared";
import {askHidden} from "../join/hidden-prompt.ts";
import {formatFleetList, joinedUrlPath, joinFleet, readJoinedUrl} from "../join/fleet-join.ts";

export interface WorkerRedisArgs {
    readonly redis?: string;
    readonly redisUrlFile?: string;
    readonly join?: string;
    readonly redisPrefix: string;
    readonly stateDir: string;
}

/** How the worker looks around: the LAN and the terminal. Tests pass their own. */
export interface WorkerRedisSources {
    /** Default: browseFleets for DEFAULT_BROWSE_MS. */
    readonly browse?: () => Promise<BrowseResult>;
    /** Default: askHidden when stdin is a TTY, else none. */
    readonly askPassword?: ((prompt: string) => Promise<string>) | undefined;
    /** Where the list of coordinators goes. Default stdout. */
    readonly print?: (text: string) => void;
}

/**
 * The fleet's Redis URL for `orchard worker`, first of: --redis, --redis-url-file, --join NAME (found
 * on the LAN, the password asked once and stored), ORCHARD_REDIS_URL, the URL an earlier --join
 * stored in --state-dir, the embedded Redis of `orchard run` in --state-dir. With none of them the
 * worker browses the LAN, lists the coordinators that answered and stops (INVALID_ARGUMENT saying how to pick one).
 */
export async function resolveWorkerRedisUrl(args: WorkerRedisArgs, sources: WorkerRedisSources = {}, logger?: Logger): Promise<string> {
    const given = [args.redis === undefined ? undefined : "--redis", args.redisUrlFile === undefined ? undefined : "--redis-url-file", args.join === undefined ? undefined : "--join"]
        .filter((flag) => flag !== undefined);
    if (given.length > 1) throw new OrchardError("INVALID_ARGUMENT", `give the fleet's Redis with one of ${given.join(", ")}, not several`);
    if (args.redis !== undefined) return args.redis;
    if (args.redisUrlFile !== undefined) return readRedisUrlFile(args.redisUrlFile);
    const browse = sources.browse ?? (() => browseFleets({durationMs: DEFAULT_BROWSE_MS}));
    if (args.join !== undefined) {
        const askPassword = "askPassword" in sources ? sources.askPassword : process.stdin.isTTY === true ? (prompt: string) => askHidden(prompt) : undefined;
        const joined = await joinFleet({name: args.join, stateDir: args.stateDir, keyPrefix: args.redisPrefix, browse, askPassword});
        logger?.info({coordinator: joined.fleet.name, runs: joined.fleet.runs}, joined.reused
            ? `joining ${joined.fleet.name} with the password kept in ${joinedUrlPath(args.stateDir)}`
            : `joined ${joined.fleet.name}; its URL is kept in ${joinedUrlPath(args.stateDir)} (mode 600): the next start needs no --join`);
        return joined.url;
    }
    const known = readOrchardEnvironment().redisUrl ?? readJoinedUrl(args.stateDir);
    if (known !== undefined) return known;
    const live = await readLiveEmbeddedRedisEndpoint(args.stateDir);
    if (live !== undefined) return embeddedRedisUrl(live);
    const found = await browse();
    (sources.print ?? ((text) => process.stdout.write(text)))(found.fleets.length + found.refused.length === 0 ? "" : `Coordinators on the LAN:\n${formatFleetList(found)}`);
    throw new OrchardError("INVALID_ARGUMENT", found.fleets.length === 0
        ? "no Redis to join: no coordinator answered on the LAN (`orchard run --redis-bind 0.0.0.0` advertises one); pass --redis <url> (the URL `orchard run` prints), " +
          `set ORCHARD_REDIS_URL, or start \`orchard run\` in this folder first (no embedded Redis is running under ${args.stateDir})`
        : `no Redis given: join one of the coordinators above with --join NAME (its password is asked once), or pass --redis <url>`);
}
