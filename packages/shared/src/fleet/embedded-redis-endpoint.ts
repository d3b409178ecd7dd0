import {readFile} from "node:fs/promises";
import {embeddedRedisEndpointSchema, type EmbeddedRedisEndpoint} from "./fleet-schemas.ts";
import {embeddedRedisEndpointPath} from "./fleet-keys.ts";

/**
 * The embedded Redis recorded in a state folder, if its process is alive: lets `orchard worker`,
 * `cancel` and the others join a coordinator's embedded Redis on the same machine without a URL.
 */
export async function readLiveEmbeddedRedisEndpoint(stateDir: string): Promise<EmbeddedRedisEndpoint | undefined> {
    let text: string;
    try {
        text = await readFile(embeddedRedisEndpointPath(stateDir), "utf8");
    } catch {
        return undefined;
    }
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        return undefined; // a torn write: treat as absent, the owner rewrites it
    }
    const parsed = embeddedRedisEndpointSchema.safeParse(json);
    if (!parsed.success || !isProcessAlive(parsed.data.pid)) return undefined;
    return parsed.data;
}

/** `redis://[:password@]host:port` of an embedded endpoint. */
export function embeddedRedisUrl(endpoint: Pick<EmbeddedRedisEndpoint, "host" | "port" | "password">): string {
    const auth = endpoint.password === undefined ? "" : `:${encodeURIComponent(endpoint.password)}@`;
    return `redis://${auth}${endpoint.host}:${endpoint.port}`;
}

/** Whether a process of this machine exists (signal 0 checks without signalling). */
export function isProcessAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        // EPERM: it exists but belongs to someone else
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}
