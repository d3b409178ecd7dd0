import {createHash, timingSafeEqual} from "node:crypto";
import type {NextFunction, Request, Response} from "express";
import {TokenAttemptLimiter, type TokenAttemptLimitOptions} from "./token-attempt-limiter.ts";

/** Cookie that carries the token after a page was opened with `?token=`. */
export const TOKEN_COOKIE = "orchard_dashboard_token";
/** Header every action (POST) must carry: a page of another origin cannot send it without a CORS preflight we never grant. */
export const ACTION_HEADER = "x-orchard-action";

/** Whether an address or name means this machine only. */
export function isLoopbackHost(host: string): boolean {
    const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
    return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare) || bare === "::ffff:127.0.0.1";
}

/**
 * Guards every request of the dashboard (pages, API, live stream, /metrics, /queues):
 * - with a token: the request must present it (`Authorization: Bearer`, `X-Orchard-Token`, the
 *   cookie, or `?token=`); a page opened with `?token=` gets the cookie and is redirected without it,
 *   so the token never stays in the address bar, the history or a screenshot (and only ever to a
 *   path of this server); an address that sent too many wrong tokens gets 429 for a while;
 * - without one (loopback only): the Host header must name this machine, so a web page cannot
 *   reach the dashboard by re-binding its own domain to 127.0.0.1;
 * - always, for actions (anything but GET/HEAD): the action header, and an Origin (when the browser
 *   sends one) of the dashboard's own scheme, host and port, so no other site can make a visitor's
 *   browser act.
 */
export function dashboardAuth(options: {token: string | undefined; attempts?: TokenAttemptLimitOptions}) {
    const expected = options.token === undefined ? undefined : digest(options.token);
    const limiter = new TokenAttemptLimiter(options.attempts);
    return (request: Request, response: Response, next: NextFunction): void => {
        if (expected === undefined) {
            if (!isLoopbackHost(hostOf(request.headers.host ?? ""))) return refuse(request, response, 403, "this dashboard only answers requests addressed to localhost");
        } else {
            const address = request.socket.remoteAddress ?? "";
            const lockedMs = limiter.lockedForMs(address);
            if (lockedMs > 0) {
                const seconds = Math.ceil(lockedMs / 1000);
                response.setHeader("Retry-After", String(seconds));
                return refuse(request, response, 429, `too many wrong dashboard tokens from ${address}: try again in ${seconds} s`);
            }
            const presented = presentedToken(request);
            if (presented === undefined) return refuse(request, response, 401, "this dashboard needs its token: open it as /?token=<token>, or send Authorization: Bearer <token>");
            const presentedDigest = digest(presented.token);
            if (!timingSafeEqual(presentedDigest, expected)) {
                limiter.fail(address, presentedDigest.toString("base64"));
                return refuse(request, response, 401, "wrong dashboard token");
            }
            limiter.succeed(address);
            if (presented.from === "query" && request.method === "GET" && wantsHtml(request)) {
                response.cookie(TOKEN_COOKIE, presented.token, {httpOnly: true, sameSite: "lax", path: "/"});
                return response.redirect(303, withoutToken(request.originalUrl));
            }
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
            if (request.headers[ACTION_HEADER] === undefined) return refuse(request, response, 403, `actions need the ${ACTION_HEADER} header (the dashboard's buttons send it)`);
            const origin = request.headers.origin;
            if (origin !== undefined && origin !== "null" && !isOwnOrigin(origin, request))
                return refuse(request, response, 403, "cross-origin actions are refused");
        }
        next();
    };
}

/**
 * The address the request was made to, less its `token` parameter, as a path of this server:
 * `/.//evil.example` resolves to the path `//evil.example`, which a browser would read as another
 * host (a protocol-relative URL), so leading slashes collapse into one.
 */
function withoutToken(originalUrl: string): string {
    const url = new URL(originalUrl, "http://dashboard");
    url.searchParams.delete("token");
    return `/${url.pathname.replace(/^[/\\]+/, "")}${url.search}`;
}

/**
 * Whether an Origin header names the scheme, host and port the request was sent to; a malformed one
 * does not. Behind a TLS-terminating proxy the scheme is the proxy's X-Forwarded-Proto: another
 * site's page cannot add that header to a request without a CORS preflight, which is never granted.
 */
function isOwnOrigin(origin: string, request: Request): boolean {
    const forwarded = request.headers["x-forwarded-proto"];
    const scheme = typeof forwarded === "string" && /^https?$/i.test(forwarded.trim()) ? forwarded.trim().toLowerCase() : request.protocol;
    try {
        return new URL(origin).origin === new URL(`${scheme}://${request.headers.host ?? ""}`).origin;
    } catch {
        return false;
    }
}

function presentedToken(request: Request): {token: string; from: "header" | "cookie" | "query"} | undefined {
    const authorization = request.headers.authorization;
    if (authorization !== undefined && /^Bearer\s+/i.test(authorization)) return {token: authorization.replace(/^Bearer\s+/i, "").trim(), from: "header"};
    const header = request.headers["x-orchard-token"];
    if (typeof header === "string" && header !== "") return {token: header, from: "header"};
    const cookie = cookieValue(request.headers.cookie ?? "", TOKEN_COOKIE);
    if (cookie !== undefined) return {token: cookie, from: "cookie"};
    const query = request.query["token"];
    if (typeof query === "string" && query !== "") return {token: query, from: "query"};
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

function refuse(request: Request, response: Response, status: number, message: string): void {
    if (wantsHtml(request) && request.method === "GET")
        response.status(status).type("html").send(`<!doctype html><meta charset="utf-8"><title>Orchard dashboard</title><p>${status}: ${escapeHtml(message)}</p>`);
    else response.status(status).json({error: {code: {401: "UNAUTHORIZED", 429: "TOO_MANY_ATTEMPTS"}[status] ?? "FORBIDDEN", message}});
}

function wantsHtml(request: Request): boolean {
    return (request.headers.accept ?? "").includes("text/html");
}

/** "127.0.0.1:8420" -> "127.0.0.1", "[::1]:8420" -> "::1". */
function hostOf(hostHeader: string): string {
    const match = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
    if (match !== null) return (match[1] as string).toLowerCase();
    return hostHeader.replace(/:\d+$/, "").toLowerCase();
}

/** Hashing both sides gives equal lengths for timingSafeEqual, whatever was presented. */
function digest(token: string): Buffer {
    return createHash("sha256").update(token).digest();
}

function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
