import {readFileSync} from "node:fs";
import {isIP} from "node:net";
import {z} from "zod";
import {terminalSafe} from "../text/terminal-text.ts";

/**
 * What a coordinator tells the LAN about itself by DNS-SD (`_orchard._tcp`): where its Redis is and
 * which runs it coordinates. Never the password: anyone on the LAN reads these records, and anyone
 * on the LAN can also forge them, so everything decoded here is untrusted (schema-bound, hosts and
 * ports checked, names made terminal-safe before they are printed).
 */

/** The DNS-SD service type, `_orchard._tcp`. */
export const FLEET_SERVICE_TYPE = "orchard";
/** The TXT layout this code writes and reads (`txtvers`); a record of another layout is ignored. */
const TXT_VERSION = "1";
/** One TXT string is at most 255 bytes (RFC 6763 6.1): the run list is cut to fit, whole ids only. */
const MAX_TXT_STRING_BYTES = 255;
/** A DNS-SD instance name is at most 63 bytes (RFC 6763 4.1.1). */
const MAX_INSTANCE_NAME_BYTES = 63;

/** This Orchard's version (the shared package's), advertised so that a worker can tell a mismatch. */
export const ORCHARD_VERSION: string = z.object({version: z.string()})
    .parse(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))).version;

/** A coordinator as it advertises itself. */
export interface FleetAdvertisement {
    /** The DNS-SD instance name (`--join NAME`). */
    readonly name: string;
    /** Port of the fleet's Redis (the SRV record's port). */
    readonly redisPort: number;
    /** Host of the fleet's Redis when it is not the advertising machine (a `--redis` URL's host); undefined: the advertiser's own address. */
    readonly redisHost: string | undefined;
    /** Whether Redis speaks TLS (rediss://). */
    readonly tls: boolean;
    /** Prefix of Orchard's Redis keys. */
    readonly keyPrefix: string;
    /** Ids of the runs it coordinates (a run's id starts with its --name). */
    readonly runs: readonly string[];
    readonly version: string;
}

/** A coordinator found on the LAN: its advertisement, checked, and the address it answered from. */
export interface DiscoveredFleet extends FleetAdvertisement {
    /** Where to reach its Redis: `redisHost`, else the advertiser's IPv4 (or IPv6) address. */
    readonly host: string;
}

// Run ids are newRunId's slug + hex; key prefixes are Redis key text. Both stay in a narrow alphabet
// so that a forged record cannot smuggle anything into a URL or a terminal.
const runIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/);
const hostNameSchema = z.string().max(253).refine((host) => isIP(host) !== 0 || /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/.test(host), "not a host name or IP address");
const portSchema = z.number().int().min(1).max(65535);

/** The TXT record, as bonjour-service decodes it (strings). Unknown keys are ignored: a later layout may add some. */
const fleetTxtSchema = z.object({
    txtvers: z.literal(TXT_VERSION),
    version: z.string().regex(/^[0-9A-Za-z.+-]{1,40}$/),
    port: z.string().regex(/^[0-9]{1,5}$/).transform(Number).pipe(portSchema),
    tls: z.enum(["0", "1"]),
    prefix: z.string().regex(/^[A-Za-z0-9:._-]{1,100}$/),
    runs: z.string().max(MAX_TXT_STRING_BYTES).transform((text) => text === "" ? [] : text.split(",")).pipe(z.array(runIdSchema)),
    host: hostNameSchema.optional()
});

/** The TXT strings of `advertisement` (key=value; the password is not a field of it, so it cannot be one). */
export function encodeFleetTxt(advertisement: FleetAdvertisement): Record<string, string> {
    const txt: Record<string, string> = {
        txtvers: TXT_VERSION,
        version: advertisement.version,
        port: String(advertisement.redisPort),
        tls: advertisement.tls ? "1" : "0",
        prefix: advertisement.keyPrefix,
        runs: fitRuns(advertisement.runs)
    };
    if (advertisement.redisHost !== undefined) txt.host = advertisement.redisHost;
    return txt;
}

/** As many whole run ids as fit one TXT string (the newest first: callers list them so). */
function fitRuns(runs: readonly string[]): string {
    let text = "";
    for (const run of runs) {
        const next = text === "" ? run : `${text},${run}`;
        if (Buffer.byteLength(`runs=${next}`) > MAX_TXT_STRING_BYTES) break;
        text = next;
    }
    return text;
}

/** `<short host name>-<redis port>`, cut to DNS-SD's 63 bytes: two coordinators on one machine differ by port. */
export function fleetInstanceName(hostName: string, redisPort: number): string {
    const short = hostName.split(".")[0] ?? hostName;
    const suffix = `-${redisPort}`;
    const room = MAX_INSTANCE_NAME_BYTES - suffix.length;
    let cut = short;
    while (Buffer.byteLength(cut) > room) cut = cut.slice(0, -1);
    return `${cut || "orchard"}${suffix}`;
}

/** What the browser hands over for one service: the fields of bonjour-service's Service that are used. */
export interface BrowsedService {
    readonly name?: unknown;
    readonly port?: unknown;
    readonly txt?: unknown;
    readonly addresses?: unknown;
    readonly referer?: {readonly address?: unknown} | undefined;
}

/**
 * `service` as a DiscoveredFleet, or the reason it is refused: a TXT record of another layout or
 * with a bad field, an SRV port other than the TXT's, no usable address. The instance name is made
 * terminal-safe here (it is printed and matched against --join).
 */
export function decodeDiscoveredFleet(service: BrowsedService): DiscoveredFleet | {readonly refused: string} {
    const txt = fleetTxtSchema.safeParse(service.txt);
    if (!txt.success) return {refused: `TXT record: ${txt.error.issues.map((issue) => `${issue.path.join(".") || "record"}: ${issue.message}`).join("; ")}`};
    const srvPort = portSchema.safeParse(service.port);
    if (!srvPort.success || srvPort.data !== txt.data.port) return {refused: "the SRV port is not the TXT record's port"};
    const name = typeof service.name === "string" ? terminalSafe(service.name).trim().slice(0, MAX_INSTANCE_NAME_BYTES) : "";
    if (name === "") return {refused: "no instance name"};
    const host = txt.data.host ?? advertiserAddress(service);
    if (host === undefined) return {refused: "no address to reach it at"};
    return {
        name, host, redisPort: txt.data.port, redisHost: txt.data.host, tls: txt.data.tls === "1", keyPrefix: txt.data.prefix,
        runs: txt.data.runs, version: txt.data.version
    };
}

/** The advertiser's A (then AAAA) records, else the address its answer came from. IP literals only. */
function advertiserAddress(service: BrowsedService): string | undefined {
    const addresses = Array.isArray(service.addresses) ? service.addresses.filter((address): address is string => typeof address === "string" && isIP(address) !== 0) : [];
    const referer = typeof service.referer?.address === "string" && isIP(service.referer.address) !== 0 ? [service.referer.address] : [];
    const candidates = [...addresses, ...referer];
    return candidates.find((address) => isIP(address) === 4) ?? candidates.find((address) => !address.toLowerCase().startsWith("fe80:")) ?? candidates[0];
}
