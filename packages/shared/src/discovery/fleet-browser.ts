import {terminalSafe} from "../text/terminal-text.ts";
import {decodeDiscoveredFleet, FLEET_SERVICE_TYPE, type BrowsedService, type DiscoveredFleet} from "./fleet-advertisement.ts";

/** How long `orchard worker` listens for coordinators: mDNS answers come within a second on a LAN; a sleeping Mac's proxy takes longer. */
export const DEFAULT_BROWSE_MS = 3000;

/** Answers kept at most: a LAN has a few coordinators; a flood of forged ones must not grow without bound. */
const MAX_SERVICES = 100;

export interface BrowseFleetsOptions {
    /** How long to listen, in ms. Default DEFAULT_BROWSE_MS. */
    readonly durationMs?: number;
}

export interface BrowseResult {
    /** The coordinators found, one per instance name (the last answer wins), by name. */
    readonly fleets: readonly DiscoveredFleet[];
    /** Answers refused (another TXT layout, a bad field), with the reason: said to the user, never used. */
    readonly refused: readonly {readonly name: string; readonly reason: string}[];
}

/** Listens for `_orchard._tcp` coordinators on the LAN for `durationMs` and returns what answered, checked. */
export async function browseFleets(options: BrowseFleetsOptions = {}): Promise<BrowseResult> {
    const found = new Map<string, BrowsedService>();
    let failure: Error | undefined;
    // loaded when a worker browses, not by every command that imports @orchard/shared (~0.1 s)
    const {Bonjour} = await import("bonjour-service");
    const bonjour = new Bonjour({}, (error: Error) => (failure ??= error));
    const keep = (service: BrowsedService & {readonly fqdn: string}) => {
        if (found.has(service.fqdn) || found.size < MAX_SERVICES) found.set(service.fqdn, service);
    };
    const browser = bonjour.find({type: FLEET_SERVICE_TYPE}, keep);
    // a record updated while listening (a new run) replaces the first answer
    browser.on("txt-update", keep);
    await new Promise((resolve) => setTimeout(resolve, options.durationMs ?? DEFAULT_BROWSE_MS));
    browser.stop();
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
    if (failure !== undefined && found.size === 0) throw failure;
    const fleets = new Map<string, DiscoveredFleet>();
    const refused: {name: string; reason: string}[] = [];
    for (const service of found.values()) {
        const decoded = decodeDiscoveredFleet(service);
        if ("refused" in decoded) refused.push({name: typeof service.name === "string" ? terminalSafe(service.name).slice(0, 63) : "?", reason: terminalSafe(decoded.refused)});
        else fleets.set(decoded.name, decoded);
    }
    return {fleets: [...fleets.values()].sort((a, b) => a.name.localeCompare(b.name)), refused};
}
