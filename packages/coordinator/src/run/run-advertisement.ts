import {hostname} from "node:os";
import {fleetInstanceName, OrchardError, ORCHARD_VERSION, type FleetAdvertisement} from "@orchard/shared";

/** Host names and addresses that only this machine can reach. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;
const DEFAULT_REDIS_PORT = 6379;

/** Where the advertised Redis is, as far as it is known before Redis starts (an embedded Redis picks its port then). */
export interface AdvertisedRedis {
    /** The Redis host when it is not this machine (a --redis URL); undefined: this machine's address. */
    readonly host: string | undefined;
    /** The port of a --redis URL; undefined: the embedded Redis's, known once it runs. */
    readonly port: number | undefined;
    readonly tls: boolean;
}

/**
 * Whether and what a coordinator advertises on the LAN. `advertise` undefined: only when its
 * embedded Redis listens beyond loopback (`--redis-bind 0.0.0.0`), the case where other machines
 * can join and need to find it. true with a Redis that only this machine can reach is refused
 * (INVALID_ARGUMENT) before anything starts: workers elsewhere would find an address they cannot use.
 */
export function advertisedRedisOf(options: {readonly advertise: boolean | undefined; readonly redisUrl: string | undefined; readonly redisBind: string | undefined}): AdvertisedRedis | undefined {
    if (options.advertise === false) return undefined;
    if (options.redisUrl === undefined) {
        const bind = options.redisBind ?? "127.0.0.1";
        if (LOOPBACK_HOST.test(bind)) {
            if (options.advertise === true)
                throw new OrchardError("INVALID_ARGUMENT", `--advertise: the embedded Redis listens on ${bind} only, which other machines cannot reach; add --redis-bind 0.0.0.0`);
            return undefined;
        }
        // a wildcard bind answers on every address of this machine: the browser takes the address the advertisement came from
        return {host: bind === "0.0.0.0" || bind === "::" ? undefined : bind, port: undefined, tls: false};
    }
    if (options.advertise !== true) return undefined;
    let url: URL;
    try {
        url = new URL(options.redisUrl);
    } catch {
        throw new OrchardError("INVALID_ARGUMENT", "--advertise: the Redis URL is not a URL");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (LOOPBACK_HOST.test(host))
        throw new OrchardError("INVALID_ARGUMENT", `--advertise: the Redis URL's host (${host}) is this machine's loopback, which other machines cannot reach; give a URL with this machine's LAN name or address`);
    return {host, port: url.port === "" ? DEFAULT_REDIS_PORT : Number(url.port), tls: url.protocol === "rediss:"};
}

/** The advertisement of a coordinator of `runIds`; `embeddedPort`: the port of its embedded Redis, if it runs one. */
export function runAdvertisement(redis: AdvertisedRedis, init: {readonly embeddedPort: number | undefined; readonly keyPrefix: string; readonly runIds: readonly string[]; readonly hostName?: string}): FleetAdvertisement {
    const port = redis.port ?? init.embeddedPort;
    if (port === undefined) throw new OrchardError("INTERNAL", "advertising an embedded Redis that does not run");
    return {
        name: fleetInstanceName(init.hostName ?? hostname(), port), redisPort: port, redisHost: redis.host, tls: redis.tls,
        keyPrefix: init.keyPrefix, runs: init.runIds, version: ORCHARD_VERSION
    };
}
