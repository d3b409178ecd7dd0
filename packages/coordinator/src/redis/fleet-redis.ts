import {embeddedRedisUrl, OrchardError, readLiveEmbeddedRedisEndpoint, redactRedisUrl, type Logger} from "@orchard/shared";
import type {Redis} from "ioredis";
import {EmbeddedRedis} from "./embedded-redis.ts";
import {closeRedis, connectRedis} from "@orchard/shared";

export interface FleetRedisOptions {
    /** The fleet's Redis; undefined: the embedded Redis of `stateDir`. */
    readonly redisUrl: string | undefined;
    readonly stateDir: string;
    /**
     * "own": a coordinator; starts (or adopts) the embedded Redis and stops it on close.
     * "join": an admin command; joins the embedded Redis a coordinator is running, else starts it
     * just for the command (its AOF holds the runs).
     */
    readonly mode: "own" | "join";
    /** Listen address of an embedded Redis that this process starts. Default 127.0.0.1. */
    readonly bind?: string;
    readonly logger?: Logger;
    /** Called when an embedded Redis died for good. */
    readonly onFatal?: (error: OrchardError) => void;
}

/** The coordinator's connection to the fleet's Redis, and the embedded server when it runs one. */
export class FleetRedis {
    public readonly client: Redis;
    /** URL for processes on this machine (local workers; password included: pass it in their environment, never on a command line). */
    public readonly url: string;
    /** URL to print for other machines; undefined when an embedded Redis listens on loopback only (this machine joins through the state folder). */
    public readonly publicUrl: string | undefined;
    public readonly embedded: EmbeddedRedis | undefined;
    #closed = false;

    private constructor(client: Redis, url: string, publicUrl: string | undefined, embedded: EmbeddedRedis | undefined) {
        this.client = client;
        this.url = url;
        this.publicUrl = publicUrl;
        this.embedded = embedded;
    }

    public static async open(options: FleetRedisOptions): Promise<FleetRedis> {
        if (options.redisUrl !== undefined) {
            const client = await connectRedis(options.redisUrl, {logger: options.logger, name: "orchard-coordinator"});
            return new FleetRedis(client, options.redisUrl, options.redisUrl, undefined);
        }
        if (options.mode === "join") {
            const live = await readLiveEmbeddedRedisEndpoint(options.stateDir);
            if (live !== undefined) {
                const url = embeddedRedisUrl(live);
                return new FleetRedis(await connectRedis(url, {logger: options.logger, name: "orchard-admin"}), url, undefined, undefined);
            }
        }
        const embedded = await EmbeddedRedis.start({
            stateDir: options.stateDir, ...(options.bind === undefined ? {} : {bind: options.bind}),
            ...(options.logger === undefined ? {} : {logger: options.logger}), ...(options.onFatal === undefined ? {} : {onFatal: options.onFatal})
        });
        try {
            const client = await connectRedis(embedded.url, {logger: options.logger, name: "orchard-coordinator"});
            return new FleetRedis(client, embedded.url, embedded.publicUrl, embedded);
        } catch (error) {
            await embedded.stop();
            throw error;
        }
    }

    /** The URL for logs and messages (password hidden). */
    public get displayUrl(): string {
        return redactRedisUrl(this.publicUrl ?? this.url);
    }

    public async close(): Promise<void> {
        if (this.#closed) return;
        this.#closed = true;
        await closeRedis(this.client);
        await this.embedded?.stop();
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}
