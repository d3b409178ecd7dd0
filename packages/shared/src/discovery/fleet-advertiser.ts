import type {Bonjour, Service} from "bonjour-service";
import type {Logger} from "../logging/create-logger.ts";
import {encodeFleetTxt, FLEET_SERVICE_TYPE, type FleetAdvertisement} from "./fleet-advertisement.ts";

/** Longest wait for the goodbye packets to go out on close. */
const CLOSE_WAIT_MS = 1000;

export interface FleetAdvertiserOptions {
    readonly advertisement: FleetAdvertisement;
    readonly logger?: Logger | undefined;
}

/**
 * Publishes a coordinator on the LAN by mDNS/DNS-SD (`_orchard._tcp`) until closed; closing sends
 * the goodbye packets, so browsers drop it at once rather than when its records expire.
 */
export class FleetAdvertiser {
    /** The DNS-SD instance name (what `orchard worker --join` takes). */
    public readonly name: string;
    readonly #bonjour: Bonjour;
    readonly #service: Service;
    #closing: Promise<void> | undefined;

    private constructor(name: string, bonjour: Bonjour, service: Service) {
        this.name = name;
        this.#bonjour = bonjour;
        this.#service = service;
    }

    public static async start(options: FleetAdvertiserOptions): Promise<FleetAdvertiser> {
        // loaded when a coordinator advertises, not by every command that imports @orchard/shared (~0.1 s)
        const {Bonjour} = await import("bonjour-service");
        const log = options.logger;
        // a socket error (no multicast route, port 5353 refused) must not crash the coordinator: the run goes on unadvertised
        const bonjour = new Bonjour({}, (error: Error) => log?.warn({err: error.message}, "mDNS advertisement failed; workers must be given --redis"));
        const {advertisement} = options;
        const service = bonjour.publish({
            name: advertisement.name, type: FLEET_SERVICE_TYPE, port: advertisement.redisPort, txt: encodeFleetTxt(advertisement),
            // the name holds this host's name and the Redis port, unique on a LAN; the library's probe reports a clash with console.log, not to us
            probe: false
        });
        service.on("error", (error: Error) => log?.warn({err: error.message}, "mDNS advertisement failed; workers must be given --redis"));
        log?.info({name: advertisement.name, runs: advertisement.runs}, "advertising this coordinator on the LAN (_orchard._tcp)");
        return new FleetAdvertiser(advertisement.name, bonjour, service);
    }

    /** Withdraws the advertisement (goodbye packets) and closes the mDNS socket. Idempotent. */
    public close(): Promise<void> {
        this.#closing ??= new Promise<void>((resolve) => {
            // a socket that failed may never call back: the coordinator's exit must not wait on it
            const timer = setTimeout(() => {
                this.#bonjour.destroy();
                resolve();
            }, CLOSE_WAIT_MS);
            timer.unref();
            this.#service.stop?.(() => this.#bonjour.destroy(() => {
                clearTimeout(timer);
                resolve();
            }));
        });
        return this.#closing;
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}
