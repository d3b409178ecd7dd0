import {DEFAULT_STATE_DIR} from "../fleet/fleet-defaults.ts";
import {DEFAULT_KEY_PREFIX} from "../fleet/fleet-keys.ts";

/** How a fleet command (run, worker, resume, cancel, retry-failed) finds the fleet's Redis. */
export const FLEET_CONNECTION_FLAGS = {
    "redis": {
        type: "string",
        describe: "Redis URL (redis://[:password@]host:port[/db], rediss:// for TLS); default ORCHARD_REDIS_URL, else the embedded Redis of --state-dir"
    },
    "redis-prefix": {type: "string", default: DEFAULT_KEY_PREFIX, describe: "Prefix of Orchard's Redis keys (several fleets may share one Redis)"},
    "state-dir": {type: "string", default: DEFAULT_STATE_DIR, describe: "Folder of the embedded Redis (AOF data, endpoint) when no URL is given, and of this machine's records of the runs it coordinates (runs/)"}
} as const;

export interface FleetConnectionFlagValues {
    readonly redis?: string;
    readonly redisPrefix: string;
    readonly stateDir: string;
}
