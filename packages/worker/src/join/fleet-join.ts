import {existsSync} from "node:fs";
import {rename, rm, writeFile} from "node:fs/promises";
import {isIP} from "node:net";
import {join} from "node:path";
import {
    openPrivateStateDir, OrchardError, PRIVATE_FILE_MODE, readRedisUrlFile, type BrowseResult, type DiscoveredFleet
} from "@orchard/shared";
import {Redis} from "ioredis";

/**
 * The file in the worker's state folder (--state-dir) that holds the Redis URL of the fleet joined
 * with --join, password included: mode 600 in a 700 folder, read with the --redis-url-file reader,
 * so that the next `orchard worker` in this folder joins the same fleet without asking again.
 */
export const JOINED_URL_FILE = "joined-redis-url";
/** How long the password check waits for the coordinator's Redis. */
const CHECK_TIMEOUT_MS = 5000;

export function joinedUrlPath(stateDir: string): string {
    return join(stateDir, JOINED_URL_FILE);
}

/** The URL an earlier --join stored under `stateDir`, or undefined when there is none (a damaged file is an INVALID_ARGUMENT naming it). */
export function readJoinedUrl(stateDir: string): string | undefined {
    const path = joinedUrlPath(stateDir);
    return existsSync(path) ? readRedisUrlFile(path, "the URL stored by --join,") : undefined;
}

/** The coordinators found, one line each (their fields are checked and terminal-safe: see decodeDiscoveredFleet). */
export function formatFleetList(result: BrowseResult): string {
    const lines = result.fleets.map((fleet) =>
        `  ${fleet.name}  ${hostPort(fleet.host, fleet.redisPort)}${fleet.tls ? " (TLS)" : ""}  runs: ${fleet.runs.length === 0 ? "none" : fleet.runs.join(", ")}  (Orchard ${fleet.version})\n`);
    const refused = result.refused.map((item) => `  ignored ${item.name}: ${item.reason}\n`);
    return lines.join("") + refused.join("");
}

/**
 * The coordinator `wanted` names: its instance name, else the one coordinating a run of that id or
 * --name (a run id is `<name>-<hex>`), else the one on that host. None or several: INVALID_ARGUMENT
 * naming what was found.
 */
export function selectFleet(fleets: readonly DiscoveredFleet[], wanted: string): DiscoveredFleet {
    const rules: ((fleet: DiscoveredFleet) => boolean)[] = [
        (fleet) => fleet.name === wanted,
        (fleet) => fleet.runs.some((run) => run === wanted || run.replace(/-[0-9a-f]{8}$/, "") === wanted),
        (fleet) => fleet.host === wanted
    ];
    for (const rule of rules) {
        const matches = fleets.filter(rule);
        if (matches.length === 1) return matches[0] as DiscoveredFleet;
        if (matches.length > 1)
            throw new OrchardError("INVALID_ARGUMENT", `--join ${wanted}: several coordinators match (${matches.map((fleet) => fleet.name).join(", ")}); give one of these names`);
    }
    const found = fleets.length === 0 ? "no coordinator answered on the LAN" : `found: ${fleets.map((fleet) => fleet.name).join(", ")}`;
    throw new OrchardError("INVALID_ARGUMENT", `--join ${wanted}: no such coordinator (${found})`);
}

/** The URL of `fleet`'s Redis with `password` ("" : none). */
export function fleetRedisUrl(fleet: Pick<DiscoveredFleet, "host" | "redisPort" | "tls">, password: string): string {
    const auth = password === "" ? "" : `:${encodeURIComponent(password)}@`;
    return `${fleet.tls ? "rediss" : "redis"}://${auth}${hostPort(fleet.host, fleet.redisPort)}`;
}

function hostPort(host: string, port: number): string {
    return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export interface JoinFleetOptions {
    /** --join: an instance name, a run id or name, or a host. */
    readonly name: string;
    readonly stateDir: string;
    /** --redis-prefix: must be the coordinator's. */
    readonly keyPrefix: string;
    readonly browse: () => Promise<BrowseResult>;
    /** Asks for the password on a terminal; undefined: no terminal (a service, a pipe). */
    readonly askPassword: ((prompt: string) => Promise<string>) | undefined;
    /** Throws unless `url` reaches a Redis that accepts its password. Default checkRedisUrlWorks. */
    readonly checkUrl?: (url: string) => Promise<void>;
}

export interface JoinedFleet {
    readonly url: string;
    readonly fleet: DiscoveredFleet;
    /** Whether the password came from the file an earlier --join stored (nothing asked). */
    readonly reused: boolean;
}

/**
 * `orchard worker --join NAME`: finds the coordinator on the LAN, takes the password stored by an
 * earlier join of the same address or asks for it once (hidden, on a terminal), checks it against
 * the coordinator's Redis, and stores the URL (mode 600) for the next start.
 */
export async function joinFleet(options: JoinFleetOptions): Promise<JoinedFleet> {
    const fleet = selectFleet((await options.browse()).fleets, options.name);
    if (fleet.keyPrefix !== options.keyPrefix)
        throw new OrchardError("INVALID_ARGUMENT", `--join ${options.name}: its runs use the key prefix ${fleet.keyPrefix}; add --redis-prefix ${fleet.keyPrefix}`);
    const stored = readJoinedUrl(options.stateDir);
    if (stored !== undefined && sameServer(stored, fleetRedisUrl(fleet, ""))) return {url: stored, fleet, reused: true};
    if (options.askPassword === undefined)
        throw new OrchardError("INVALID_ARGUMENT",
            `--join ${options.name}: its Redis password is asked once on a terminal, and this is not one: run \`orchard worker --join ${options.name}\` in a terminal once ` +
            `(the password is then kept in ${joinedUrlPath(options.stateDir)}), or give the URL in a mode-600 file with --redis-url-file FILE (redis://:PASSWORD@${hostPort(fleet.host, fleet.redisPort)})`);
    const password = await options.askPassword(`Redis password of ${fleet.name} (${hostPort(fleet.host, fleet.redisPort)}; \`orchard run\` printed it in its join URL): `);
    const url = fleetRedisUrl(fleet, password);
    await (options.checkUrl ?? checkRedisUrlWorks)(url);
    await storeJoinedUrl(options.stateDir, url);
    return {url, fleet, reused: false};
}

function sameServer(a: string, b: string): boolean {
    const [left, right] = [new URL(a), new URL(b)];
    return left.protocol === right.protocol && left.hostname === right.hostname && left.port === right.port;
}

/** Writes the URL under `stateDir` with mode 600 (a temporary file renamed over: never half a URL, never readable by others). */
async function storeJoinedUrl(stateDir: string, url: string): Promise<void> {
    await openPrivateStateDir(stateDir);
    const path = joinedUrlPath(stateDir);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
        await writeFile(temporary, `${url}\n`, {mode: PRIVATE_FILE_MODE, flag: "w"});
        await rename(temporary, path);
    } catch (error) {
        await rm(temporary, {force: true});
        throw new OrchardError("INVALID_ARGUMENT", `cannot store the joined fleet's URL in ${path}: ${(error as Error).message}`, {cause: error});
    }
}

/**
 * Connects once to `url` and pings: a wrong password is said at once (the worker's own connection
 * retries forever, and would only log it). Throws INVALID_ARGUMENT (wrong password) or
 * REDIS_UNAVAILABLE; never prints the URL.
 */
export async function checkRedisUrlWorks(url: string): Promise<void> {
    const client = new Redis(url, {lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: CHECK_TIMEOUT_MS});
    // the client's error event carries the cause (WRONGPASS, ECONNREFUSED); connect() only says the connection closed
    let cause: Error | undefined;
    client.on("error", (error: Error) => (cause ??= error));
    try {
        await client.connect();
        await client.ping();
    } catch (error) {
        const message = (cause ?? error as Error).message;
        if (/WRONGPASS|NOAUTH|invalid password/i.test(message))
            throw new OrchardError("INVALID_ARGUMENT", "the coordinator's Redis refused that password (nothing stored); try again", {cause: error});
        throw new OrchardError("REDIS_UNAVAILABLE", `the coordinator's Redis did not answer: ${message}`, {cause: error, retryable: true});
    } finally {
        client.disconnect();
    }
}
