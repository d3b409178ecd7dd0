import {createHash, timingSafeEqual} from "node:crypto";
import type {IncomingMessage, ServerResponse} from "node:http";
import type {TLSSocket} from "node:tls";
import {hostOfHostHeader, isLoopbackHost} from "./loopback-host.ts";
import {TokenAttemptLimiter, type TokenAttemptLimitOptions} from "./token-attempt-limiter.ts";

/** Header every action (POST) must carry: a page of another origin cannot send it without a CORS preflight we never grant. */
export const ACTION_HEADER = "x-orchard-action";

export interface LocalWebAuthOptions {
    /** What the server is, in messages and the refusal page's title: "dashboard", "playground". */
    readonly service: string;
    /** Token every request must present; undefined serves loopback only (see below). */
    readonly token: string | undefined;
    /**
     * Cookie that carries the token after a page was opened with `?token=`. Each server has its own:
     * cookies do not tell ports apart, so the dashboard's cookie reaches the playground on the same
     * machine too, and would read there as a wrong token.
     */
    readonly cookieName: string;
    readonly attempts?: TokenAttemptLimitOptions;
}

/** A plain Node (request, response, next) middleware: Express takes it as it is, and so can a bare node:http server. */
export type LocalWebMiddleware = (request: IncomingMessage, response: ServerResponse, next: () => void) => void;

/**
 * Guards every request of a web server of ours (the dashboard, the playground):
 * - with a token: the request must present it (`Authorization: Bearer`, `X-Orchard-Token`, the
 *   cookie, or `?token=`); a page opened with `?token=` gets the cookie and is redirected without it,
 *   so the token never stays in the address bar, the history or a screenshot (and only ever to a
 *   path of this server); an address that sent too many wrong tokens gets 429 for a while;
 * - without one (loopback only): the Host header must name this machine, so a web page cannot
 *   reach the server by re-binding its own domain to 127.0.0.1;
 * - always, for actions (anything but GET/HEAD): the action header, and an Origin (when the browser
 *   sends one) of the server's own scheme, host and port, so no other site can make a visitor's
 *   browser act.
 * Refusals are JSON `{error: {code, message}}` (UNAUTHORIZED, TOO_MANY_ATTEMPTS, FORBIDDEN), or a
 * one-line page for a browser's GET.
 */
export function localWebAuth(options: LocalWebAuthOptions): LocalWebMiddleware {
    const expected = options.token === undefined ? undefined : digest(options.token);
    const limiter = new TokenAttemptLimiter(options.attempts);
    const {service} = options;
    return (request, response, next) => {
        if (expected === undefined) {
            if (!isLoopbackHost(hostOfHostHeader(request.headers.host ?? ""))) return refuse(request, response, service, 403, `this ${service} only answers requests addressed to localhost`);
        } else {
            const address = request.socket.remoteAddress ?? "";
            const lockedMs = limiter.lockedForMs(address);
            if (lockedMs > 0) {
                const seconds = Math.ceil(lockedMs / 1000);
                response.setHeader("Retry-After", String(seconds));
                return refuse(request, response, service, 429, `too many wrong ${service} tokens from ${address}: try again in ${seconds} s`);
            }
            const presented = presentedToken(request, options.cookieName);
            if (presented === undefined) return refuse(request, response, service, 401, `this ${service} needs its token: open it as /?token=<token>, or send Authorization: Bearer <token>`);
            const presentedDigest = digest(presented.token);
            if (!timingSafeEqual(presentedDigest, expected)) {
                limiter.fail(address, presentedDigest.toString("base64"));
                return refuse(request, response, service, 401, `wrong ${service} token`);
            }
            limiter.succeed(address);
            if (presented.from === "query" && request.method === "GET" && wantsHtml(request)) {
                response.setHeader("Set-Cookie", `${options.cookieName}=${encodeURIComponent(presented.token)}; Path=/; HttpOnly; SameSite=Lax`);
                response.statusCode = 303;
                response.setHeader("Location", withoutToken(requestUrl(request)));
                response.end();
                return;
            }
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
            if (request.headers[ACTION_HEADER] === undefined) return refuse(request, response, service, 403, `actions need the ${ACTION_HEADER} header (the ${service}'s buttons send it)`);
            const origin = request.headers.origin;
            if (origin !== undefined && origin !== "null" && !isOwnOrigin(origin, request))
                return refuse(request, response, service, 403, "cross-origin actions are refused");
        }
        next();
    };
}

/** The request's path and query as the client sent it (Express rewrites `url` below a mount point, never `originalUrl`). */
function requestUrl(request: IncomingMessage): string {
    return (request as {originalUrl?: string}).originalUrl ?? request.url ?? "/";
}

/**
 * The address the request was made to, less its `token` parameter, as a path of this server:
 * `/.//evil.example` resolves to the path `//evil.example`, which a browser would read as another
 * host (a protocol-relative URL), so leading slashes collapse into one.
 */
function withoutToken(originalUrl: string): string {
    const url = new URL(originalUrl, "http://server");
    url.searchParams.delete("token");
    return `/${url.pathname.replace(/^[/\\]+/, "")}${url.search}`;
}

/**
 * Whether an Origin header names the scheme, host and port the request was sent to; a malformed one
 * does not. Behind a TLS-terminating proxy the scheme is the proxy's X-Forwarded-Proto: another
 * site's page cannot add that header to a request without a CORS preflight, which is never granted.
 */
function isOwnOrigin(origin: string, request: IncomingMessage): boolean {
    const forwarded = request.headers["x-forwarded-proto"];
    const scheme = typeof forwarded === "string" && /^https?$/i.test(forwarded.trim())
        ? forwarded.trim().toLowerCase()
        : (request.socket as Partial<TLSSocket>).encrypted === true ? "https" : "http";
    try {
        return new URL(origin).origin === new URL(`${scheme}://${request.headers.host ?? ""}`).origin;
    } catch {
        return false;
    }
}

function presentedToken(request: IncomingMessage, cookieName: string): {token: string; from: "header" | "cookie" | "query"} | undefined {
    const authorization = request.headers.authorization;
    if (authorization !== undefined && /^Bearer\s+/i.test(authorization)) return {token: authorization.replace(/^Bearer\s+/i, "").trim(), from: "header"};
    const header = request.headers["x-orchard-token"];
    if (typeof header === "string" && header !== "") return {token: header, from: "header"};
    const cookie = cookieValue(request.headers.cookie ?? "", cookieName);
    if (cookie !== undefined) return {token: cookie, from: "cookie"};
    let query: string[] = [];
    try {
        query = new URL(requestUrl(request), "http://server").searchParams.getAll("token");
    } catch {
        // a malformed address presents no token
    }
    // a repeated ?token= is ambiguous: presents none
    if (query.length === 1 && query[0] !== "") return {token: query[0] as string, from: "query"};
    return undefined;
}

function cookieValue(header: string, name: string): string | undefined {
    for (const part of header.split(";")) {
        const [key, ...rest] = part.trim().split("=");
        if (key === name) {
            try {
                return decodeURIComponent(rest.join("="));
            } catch {
                return undefined;
            }
        }
    }
    return undefined;
}

function refuse(request: IncomingMessage, response: ServerResponse, service: string, status: number, message: string): void {
    response.statusCode = status;
    if (wantsHtml(request) && request.method === "GET") {
        response.setHeader("Content-Type", "text/html; charset=utf-8");
        response.end(`<!doctype html><meta charset="utf-8"><title>Orchard ${escapeHtml(service)}</title><p>${status}: ${escapeHtml(message)}</p>`);
    } else {
        response.setHeader("Content-Type", "application/json; charset=utf-8");
        response.end(JSON.stringify({error: {code: {401: "UNAUTHORIZED", 429: "TOO_MANY_ATTEMPTS"}[status] ?? "FORBIDDEN", message}}));
    }
}

function wantsHtml(request: IncomingMessage): boolean {
    return (request.headers.accept ?? "").includes("text/html");
}

/** Hashing both sides gives equal lengths for timingSafeEqual, whatever was presented. */
function digest(token: string): Buffer {
    return createHash("sha256").update(token).digest();
}

function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
