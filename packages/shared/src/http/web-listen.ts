import {OrchardError} from "../errors/orchard-error.ts";
import {MIN_DASHBOARD_TOKEN_LENGTH} from "../monitor/monitor-defaults.ts";
import {isLoopbackHost} from "./loopback-host.ts";

/** Where a web server of ours listens and the token it asks for, checked. */
export interface WebListenSettings {
    readonly host: string;
    /** 0 picks a free port. */
    readonly port: number;
    readonly token: string | undefined;
}

/**
 * Checks a web server's address and token, the same rules for the dashboard and the playground:
 * a port number, a token (at least MIN_DASHBOARD_TOKEN_LENGTH characters) for any address beyond
 * this machine. Each problem is an INVALID_ARGUMENT naming the flag or variable to fix it with.
 */
export function resolveWebListen(options: {
    /** "dashboard", "playground": in messages. */
    service: string;
    host: string;
    port: number;
    token: string | undefined;
    /** How the user gives a token, in the message: e.g. "--token (or ORCHARD_PLAYGROUND_TOKEN)". */
    tokenHint: string;
}): WebListenSettings {
    const host = options.host.trim();
    const {port} = options;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new OrchardError("INVALID_ARGUMENT", `--port must be a port number (got ${port})`);
    const token = options.token === undefined || options.token === "" ? undefined : options.token;
    if (token === undefined && !isLoopbackHost(host))
        throw new OrchardError("INVALID_ARGUMENT",
            `the ${options.service} listens on ${host}, beyond this machine: give it a ${options.tokenHint}, e.g. $(openssl rand -hex 16)`);
    if (token !== undefined && token.length < MIN_DASHBOARD_TOKEN_LENGTH)
        throw new OrchardError("INVALID_ARGUMENT", `the ${options.service} token must be at least ${MIN_DASHBOARD_TOKEN_LENGTH} characters (e.g. $(openssl rand -hex 16))`);
    return {host, port, token};
}

/**
 * The `--port`, `--host`, `--token`, `--token-file` flags of a command that serves a web page
 * (`orchard dashboard`, `orchard playground`), worded for it.
 */
export function webServerFlags(options: {service: string; defaultPort: number; defaultHost: string; environmentName: string}) {
    return {
        "port": {type: "number", default: options.defaultPort, describe: "Port to listen on (0: any free port)"},
        "host": {type: "string", default: options.defaultHost, describe: "Address to listen on; any but loopback (e.g. 0.0.0.0 for a phone on the LAN) needs --token"},
        "token": {
            type: "string",
            describe: `Token the ${options.service} requires on every request (at least ${MIN_DASHBOARD_TOKEN_LENGTH} characters); visible to other users in ps: prefer ${options.environmentName} or --token-file`
        },
        "token-file": {type: "string", describe: "File holding the token (instead of --token)"}
    } as const;
}
