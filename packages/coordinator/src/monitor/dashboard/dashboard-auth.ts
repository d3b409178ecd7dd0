import {createHash, timingSafeEqual} from "node:crypto";
import type {NextFunction, Request, Response} from "express";

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
 *   so the token never stays in the address bar, the history or a screenshot;
 * - without one (loopback only): the Host header must name this machine, so a web page cannot
 *   reach the dashboard by re-binding its own domain to 127.0.0.1;
 * - always, for actions (anything but GET/HEAD): the action header, and an Origin (when the browser
 *   sends one) equal to the dashboard's own, so no other site can make a visitor's browser act.
 */
export function dashboardAuth(options: {token: string | undefined}) {
    const expected = options.token === undefined ? undefined : digest(options.token);
    return (request: Request, response: Response, next: NextFunction): void => {
        if (expected === undefined) {
            if (!isLoopbackHost(hostOf(request.headers.host ?? ""))) return refuse(request, response, 403, "this dashboard only answers requests addressed to localhost");
        } else {
            const presented = presentedToken(request);
            if (presented === undefined || !timingSafeEqual(digest(presented.token), expected))
                return refuse(request, response, 401, presented === undefined
                    ? "this dashboard needs its token: open it as /?token=<token>, or send Authorization: Bearer <token>"
                    : "wrong dashboard token");
            if (presented.from === "query" && request.method === "GET" && wantsHtml(request)) {
                response.cookie(TOKEN_COOKIE, presented.token, {httpOnly: true, sameSite: "lax", path: "/"});
                const url = new URL(request.originalUrl, "http://dashboard");
                url.searchParams.delete("token");
                return response.redirect(303, url.pathname + url.search);
            }
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
            if (request.headers[ACTION_HEADER] === undefined) return refuse(request, response, 403, `actions need the ${ACTION_HEADER} header (the dashboard's buttons send it)`);
            const origin = request.headers.origin;
            if (origin !== undefined && origin !== "null" && hostOf(new URL(origin).host) !== hostOf(request.headers.host ?? "") )
                return refuse(request, response, 403, "cross-origin actions are refused");
        }
        next();
    };
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
    else response.status(status).json({error: {code: status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", message}});
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
