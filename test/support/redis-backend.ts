import {execFileSync} from "node:child_process";
import {existsSync} from "node:fs";
import {request} from "node:http";
import {homedir} from "node:os";
import {join} from "node:path";

/** How tests get their Redis: a redis-server they spawn, or a Redis 7 container (testcontainers). */
export type TestRedisBackend = "spawn" | "container";

/** ORCHARD_TEST_REDIS: `spawn`, `container`, or unset / `auto`. */
export const TEST_REDIS_ENV = "ORCHARD_TEST_REDIS";

/** The image a container-backed test Redis runs. */
export const TEST_REDIS_IMAGE = "redis:7-alpine";

/** What the choice depends on, injectable so that the choice is tested on a machine with neither. */
export interface RedisBackendProbes {
    /** Whether `redis-server` runs on this machine. */
    hasRedisServer(): boolean;
    /** Whether a Docker-compatible engine answers (Docker Desktop, Colima, Podman's socket...). */
    containerEngineReachable(): Promise<boolean>;
}

/**
 * The backend for `ORCHARD_TEST_REDIS` (`value`): `container` needs a reachable engine, `spawn`
 * needs redis-server; unset (or `auto`) takes redis-server when there is one, else a container
 * (a Mac developer with Docker Desktop and no redis-server), else fails saying how to get either.
 * Throws an Error whose message says what to install or set.
 */
export async function chooseRedisBackend(value: string | undefined, probes: RedisBackendProbes): Promise<TestRedisBackend> {
    const wanted = (value ?? "").trim().toLowerCase();
    if (wanted === "container") {
        if (await probes.containerEngineReachable()) return "container";
        throw new Error(`${TEST_REDIS_ENV}=container, but no container engine answers (start Docker Desktop, or set DOCKER_HOST)`);
    }
    if (wanted === "spawn") {
        if (probes.hasRedisServer()) return "spawn";
        throw new Error(`${TEST_REDIS_ENV}=spawn, but redis-server is not installed (apt-get install redis-server, brew install redis)`);
    }
    if (wanted !== "" && wanted !== "auto") throw new Error(`${TEST_REDIS_ENV}=${value}: expected spawn, container or auto`);
    if (probes.hasRedisServer()) return "spawn";
    if (await probes.containerEngineReachable()) return "container";
    throw new Error(`the tests need Redis: install redis-server (apt-get install redis-server, brew install redis) or start a container engine (Docker Desktop) and set ${TEST_REDIS_ENV}=container`);
}

/** This machine's probes: redis-server on PATH; a Docker engine's /_ping on DOCKER_HOST (unix or tcp) or the usual sockets. */
export const systemRedisBackendProbes: RedisBackendProbes = {
    hasRedisServer: () => {
        try {
            execFileSync("redis-server", ["--version"], {stdio: "ignore"});
            return true;
        } catch {
            return false;
        }
    },
    containerEngineReachable: async () => {
        for (const endpoint of dockerEndpoints(process.env["DOCKER_HOST"]))
            if (await pings(endpoint)) return true;
        return false;
    }
};

/** Where a Docker engine may listen: DOCKER_HOST when set, else the sockets of Docker on Linux, Docker Desktop and Colima. */
export function dockerEndpoints(dockerHost: string | undefined, home = homedir()): Array<{socketPath: string} | {host: string; port: number}> {
    if (dockerHost !== undefined && dockerHost !== "") {
        if (dockerHost.startsWith("unix://")) return [{socketPath: dockerHost.slice("unix://".length)}];
        const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
        return [{host: url.hostname, port: Number(url.port || 2375)}];
    }
    return ["/var/run/docker.sock", join(home, ".docker", "run", "docker.sock"), join(home, ".colima", "default", "docker.sock")]
        .filter((path) => existsSync(path)).map((socketPath) => ({socketPath}));
}

function pings(endpoint: {socketPath: string} | {host: string; port: number}): Promise<boolean> {
    return new Promise((resolve) => {
        const req = request({...endpoint, path: "/_ping", method: "GET", timeout: 2000}, (response) => {
            response.resume();
            resolve(response.statusCode === 200);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(false));
        req.end();
    });
}
