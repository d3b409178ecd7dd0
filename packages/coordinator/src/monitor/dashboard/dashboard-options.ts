import {resolve} from "node:path";
import {
    DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, DEFAULT_KEY_PREFIX, DEFAULT_STATE_DIR, OrchardError, resolveWebListen, type Logger, type TokenAttemptLimitOptions
} from "@orchard/shared";

export interface DashboardServerOptions {
    /** The fleet's Redis. */
    readonly redisUrl: string;
    /** Prefix of Orchard's keys. Default "orchard". */
    readonly keyPrefix?: string;
    /** Listen address. Default 127.0.0.1 (this machine only); any other needs `token`. */
    readonly host?: string;
    /** Listen port. Default 8420; 0 picks a free one. */
    readonly port?: number;
    /**
     * Shared secret checked on every request, the live streams and the actions (at least 16
     * characters). Required unless `host` is loopback; enforced whenever given.
     */
    readonly token?: string;
    /** When an address that sends wrong tokens is locked out (429). Default: 10 wrong tokens in 5 minutes lock it out for 5 minutes. */
    readonly tokenAttempts?: TokenAttemptLimitOptions;
    /** Milliseconds between live updates of an open page. Default 1,000. */
    readonly refreshMs?: number;
    /** A worker silent this long reads as lost, in ms. Default 30,000. */
    readonly lostAfterMs?: number;
    /**
     * Whether the retry button may coordinate a retry in this process when no coordinator runs the
     * run (its files must be on this machine). Default true; off for the dashboard of `orchard run`.
     */
    readonly allowRetrySessions?: boolean;
    /** State folder holding this machine's records of its runs: a retry session coordinates only those. Default ".orchard". */
    readonly stateDir?: string;
    readonly logger?: Logger;
}

export interface ResolvedDashboardOptions {
    readonly redisUrl: string;
    readonly keyPrefix: string;
    readonly host: string;
    readonly port: number;
    readonly token: string | undefined;
    readonly tokenAttempts: TokenAttemptLimitOptions;
    readonly refreshMs: number;
    readonly lostAfterMs: number | undefined;
    readonly allowRetrySessions: boolean;
    readonly stateDir: string;
    readonly logger: Logger | undefined;
}

export function resolveDashboardOptions(options: DashboardServerOptions): ResolvedDashboardOptions {
    const {host, port, token} = resolveWebListen({
        service: "dashboard", host: options.host ?? DEFAULT_DASHBOARD_HOST, port: options.port ?? DEFAULT_DASHBOARD_PORT, token: options.token,
        tokenHint: "--token (or ORCHARD_DASHBOARD_TOKEN)"
    });
    const refreshMs = options.refreshMs ?? 1000;
    if (!(refreshMs >= 100)) throw new OrchardError("INVALID_ARGUMENT", `the refresh interval must be at least 100 ms (got ${refreshMs})`);
    return {
        redisUrl: options.redisUrl,
        keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
        host,
        port,
        token,
        tokenAttempts: options.tokenAttempts ?? {},
        refreshMs,
        lostAfterMs: options.lostAfterMs,
        allowRetrySessions: options.allowRetrySessions ?? true,
        stateDir: resolve(options.stateDir ?? DEFAULT_STATE_DIR),
        logger: options.logger
    };
}
