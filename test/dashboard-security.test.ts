import assert from "node:assert/strict";
import {request} from "node:http";
import {after, before, describe, it} from "node:test";
import {DashboardServer} from "@orchard/coordinator";
import {TestRedisServer} from "./support/redis-server.ts";

const TOKEN = "security-token-0123456789abcdef";

interface Answer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: string;
}

/** One HTTP request with exactly this path and these headers, optionally from another loopback address (fetch rewrites both). */
function send(base: string, path: string, options: {method?: string; headers?: Record<string, string>; localAddress?: string} = {}): Promise<Answer> {
    const {hostname, port} = new URL(base);
    return new Promise((resolve, reject) => {
        const req = request({hostname, port, path, method: options.method ?? "GET", headers: options.headers ?? {}, localAddress: options.localAddress}, (response) => {
            let body = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({status: response.statusCode ?? 0, headers: response.headers, body}));
        });
        req.on("error", reject);
        req.end();
    });
}

const errorCode = (answer: Answer) => (JSON.parse(answer.body) as {error: {code: string}}).error.code;

describe("dashboard: origins, redirects and token guessing", () => {
    let redis: TestRedisServer;
    let prefixes = 0;
    before(async () => {
        redis = await TestRedisServer.start();
    });
    after(async () => {
        await redis?.stop();
    });

    it("refuses actions whose Origin is malformed or differs in scheme, host or port with 403, and lets its own origin through", async () => {
        await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix: `security-${prefixes++}`, port: 0, token: TOKEN});
        const {host, port} = new URL(dashboard.url);
        const action = (origin: string) => send(dashboard.url, "/api/runs/no-such-run/cancel", {
            method: "POST", headers: {"authorization": `Bearer ${TOKEN}`, "x-orchard-action": "1", origin}
        });
        for (const origin of ["http://", "not an origin", "http://[::1", "http://127.0.0.1:99999", `https://${host}`, `http://127.0.0.1:${Number(port) + 1}`, "http://evil.example", `http://localhost:${port}`]) {
            const answer = await action(origin);
            assert.equal(answer.status, 403, `Origin: ${origin} got ${answer.status} ${answer.body}`);
            assert.equal(errorCode(answer), "FORBIDDEN", origin);
        }
        // its own origin passes the guard and reaches the route (which knows no such run)
        const own = await action(`http://${host}`);
        assert.equal(own.status, 404, own.body);
        assert.equal(errorCode(own), "RUN_NOT_FOUND");
        // behind a TLS-terminating proxy the scheme is the proxy's
        const proxied = await send(dashboard.url, "/api/runs/no-such-run/cancel", {
            method: "POST", headers: {"authorization": `Bearer ${TOKEN}`, "x-orchard-action": "1", "origin": `https://${host}`, "x-forwarded-proto": "https"}
        });
        assert.equal(proxied.status, 404, proxied.body);
    });

    it("redirects a page opened with ?token= only ever to a path of its own", async () => {
        await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix: `security-${prefixes++}`, port: 0, token: TOKEN});
        for (const path of [`/.//evil.example?token=${TOKEN}`, `//evil.example/?token=${TOKEN}`, `/%2F/evil.example?token=${TOKEN}`, `/\\evil.example?token=${TOKEN}`,
            `/./\\/evil.example?token=${TOKEN}`, `/runs/r-1?token=${TOKEN}&x=1`]) {
            const answer = await send(dashboard.url, path, {headers: {accept: "text/html"}});
            assert.equal(answer.status, 303, `${path}: ${answer.status}`);
            const location = String(answer.headers["location"]);
            assert.match(location, /^\/(?![/\\])/, `${path} redirects to ${location}`);
            assert.equal(new URL(location, dashboard.url).origin, dashboard.url, `${path} redirects to ${location}`);
            assert.ok(!location.includes(TOKEN), location);
        }
        assert.equal(String((await send(dashboard.url, `/runs/r-1?token=${TOKEN}&x=1`, {headers: {accept: "text/html"}})).headers["location"]), "/runs/r-1?x=1");
    });

    it("serves bull-board's page with nothing to load from another host (its template links Google Fonts)", async () => {
        await using dashboard = await DashboardServer.start({redisUrl: redis.url, keyPrefix: `security-${prefixes++}`, port: 0, token: TOKEN});
        const page = await send(dashboard.url, "/queues/", {headers: {authorization: `Bearer ${TOKEN}`, accept: "text/html"}});
        assert.equal(page.status, 200);
        const references = [...page.body.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((match) => match[1] as string);
        assert.ok(references.some((reference) => reference.startsWith("static/")), `bull-board's own assets: ${references.join(" ")}`);
        for (const reference of references)
            assert.equal(new URL(reference, `${dashboard.url}/queues/`).origin, dashboard.url, `the page refers to ${reference}`);
    });

    it("answers 429 with Retry-After to an address that sent too many wrong tokens, for a while, and no one else", async () => {
        let nowMs = 1_000_000;
        await using dashboard = await DashboardServer.start({
            redisUrl: redis.url, keyPrefix: `security-${prefixes++}`, port: 0, token: TOKEN,
            tokenAttempts: {maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000, now: () => nowMs}
        });
        const probe = (token: string, localAddress = "127.0.0.1") => send(dashboard.url, "/healthz", {headers: {authorization: `Bearer ${token}`}, localAddress});
        const wrong = "wrong-token-0123456789abcdef";
        let guesses = 0;
        const guess = () => `guess-${guesses++}-0123456789abcdef`;

        // a stale cookie (the token of an earlier start) sent on every reconnect is one mistake, not many
        for (let i = 0; i < 5; i++) assert.equal((await probe(wrong)).status, 401);
        assert.equal((await probe(TOKEN)).status, 200);

        // mistakes forgiven by a right token do not add up
        for (let i = 0; i < 2; i++) assert.equal((await probe(guess())).status, 401);
        assert.equal((await probe(TOKEN)).status, 200);
        for (let i = 0; i < 2; i++) assert.equal((await probe(guess())).status, 401);
        // nor do mistakes further apart than the window
        nowMs += 60_000;
        assert.equal((await probe(guess())).status, 401);
        assert.equal((await probe(TOKEN)).status, 200);

        for (let i = 0; i < 3; i++) assert.equal((await probe(guess())).status, 401);
        const locked = await probe(TOKEN);
        assert.equal(locked.status, 429, "even the right token waits: guessing must not go on");
        assert.equal(errorCode(locked), "TOO_MANY_ATTEMPTS");
        assert.equal(locked.headers["retry-after"], "120");
        assert.equal((await send(dashboard.url, "/", {headers: {accept: "text/html"}})).status, 429);
        // another address is unaffected
        assert.equal((await probe(TOKEN, "127.0.0.2")).status, 200);
        nowMs += 90_000;
        assert.equal((await probe(TOKEN)).headers["retry-after"], "30");
        nowMs += 30_000;
        assert.equal((await probe(TOKEN)).status, 200, "the lockout ends");
        assert.equal((await probe(wrong)).status, 401, "and counting starts again from zero");
    });
});
