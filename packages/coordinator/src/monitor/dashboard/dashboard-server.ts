import {readFile} from "node:fs/promises";
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {OrchardError, redactRedisUrl, type Logger} from "@orchard/shared";
import express from "express";
import type {Redis} from "ioredis";
import {closeRedis, connectRedis, settleWithin} from "@orchard/shared";
import {QueueRegistry} from "../queue-registry.ts";
import {RunActions} from "../run-actions.ts";
import {StatusCollector} from "../status-collector.ts";
import {dashboardAuth} from "./dashboard-auth.ts";
import {resolveDashboardOptions, type DashboardServerOptions, type ResolvedDashboardOptions} from "./dashboard-options.ts";
import {dashboardErrorHandler, dashboardRoutes} from "./dashboard-routes.ts";
import {NoticeBoard} from "./notice-board.ts";
import {FleetMetrics} from "./fleet-metrics.ts";
import {QueueBoard} from "./queue-board.ts";
import {SnapshotCache} from "./snapshot-cache.ts";

const ASSETS = new URL("./assets/", import.meta.url);
/** Our pages load nothing from elsewhere (the fleet may have no internet): scripts and styles from here only. */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The web dashboard: a page per run (progress, throughput chart, workers, failed shards with retry
 * and cancel buttons) updated live over server-sent events, the fleet's runs and workers on the
 * front page, the JSON API behind them, Prometheus /metrics and bull-board at /queues. Loopback by
 * default; any other address needs a token (see dashboardAuth). `close()` ends everything.
 */
export class DashboardServer {
    /** Base URL, e.g. http://127.0.0.1:8420. */
    public readonly url: string;
    readonly #server: Server;
    readonly #redis: Redis;
    readonly #queues: QueueRegistry;
    readonly #board: QueueBoard;
    readonly #actions: RunActions;
    readonly #log: Logger | undefined;
    #closing: Promise<void> | undefined;

    private constructor(init: {url: string; server: Server; redis: Redis; queues: QueueRegistry; board: QueueBoard; actions: RunActions; logger: Logger | undefined}) {
        this.url = init.url;
        this.#server = init.server;
        this.#redis = init.redis;
        this.#queues = init.queues;
        this.#board = init.board;
        this.#actions = init.actions;
        this.#log = init.logger;
    }

    /** Connects to Redis and listens. INVALID_ARGUMENT for a public address without a token or a busy port. */
    public static async start(options: DashboardServerOptions): Promise<DashboardServer> {
        const resolved = resolveDashboardOptions(options);
        const log = resolved.logger?.child({component: "dashboard"});
        const [page, script, style] = await Promise.all(["dashboard.html", "dashboard.js", "dashboard.css"].map((name) => readFile(new URL(name, ASSETS), "utf8")));
        const redis = await connectRedis(resolved.redisUrl, {name: "orchard-dashboard", ...(log === undefined ? {} : {logger: log})});
        const queues = new QueueRegistry(redis, resolved.keyPrefix);
        const collector = new StatusCollector({redis, keyPrefix: resolved.keyPrefix, queues, ...(resolved.lostAfterMs === undefined ? {} : {lostAfterMs: resolved.lostAfterMs})});
        const notices = new NoticeBoard();
        const actions = new RunActions({
            redis, redisUrl: resolved.redisUrl, keyPrefix: resolved.keyPrefix, queues, allowSessions: resolved.allowRetrySessions, stateDir: resolved.stateDir,
            ...(log === undefined ? {} : {logger: log}),
            onSessionEnd: (runId, outcome) => notices.add(runId, outcome.ok ? "info" : "error", outcome.message)
        });
        const board = new QueueBoard({basePath: "/queues", queues, collector, ...(log === undefined ? {} : {logger: log})});
        void board.refresh();
        const app = express();
        app.disable("x-powered-by");
        app.use((_request, response, next) => {
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("Referrer-Policy", "no-referrer");
            response.setHeader("X-Frame-Options", "DENY");
            next();
        });
        app.use(dashboardAuth({token: resolved.token, attempts: resolved.tokenAttempts}));
        app.use("/queues", board.router);
        app.use(dashboardRoutes({cache: new SnapshotCache(collector, Math.min(resolved.refreshMs / 2, 500)), actions, notices, metrics: new FleetMetrics(), refreshMs: resolved.refreshMs, logger: log}));
        const sendPage = (_request: express.Request, response: express.Response) => {
            response.setHeader("Content-Security-Policy", PAGE_POLICY);
            response.setHeader("Cache-Control", "no-store");
            response.type("html").send(page);
        };
        app.get("/", sendPage);
        app.get("/runs/:runId", sendPage);
        app.get("/assets/dashboard.js", (_request, response) => void response.type("text/javascript").send(script));
        app.get("/assets/dashboard.css", (_request, response) => void response.type("text/css").send(style));
        app.get("/favicon.ico", (_request, response) => void response.status(204).end());
        app.get("/healthz", (_request, response) => void response.type("text").send("ok\n"));
        app.use(dashboardErrorHandler(log));

        const server = createServer(app);
        try {
            await new Promise<void>((resolve, reject) => {
                server.once("error", reject);
                server.listen(resolved.port, resolved.host, () => {
                    server.off("error", reject);
                    resolve();
                });
            });
        } catch (error) {
            board.close();
            await queues.close();
            await closeRedis(redis);
            const code = (error as NodeJS.ErrnoException).code;
            throw new OrchardError("INVALID_ARGUMENT", code === "EADDRINUSE"
                ? `port ${resolved.port} on ${resolved.host} is in use: choose another with --port (or --dashboard-port)`
                : `the dashboard cannot listen on ${resolved.host}:${resolved.port}: ${(error as Error).message}`, {cause: error});
        }
        const url = listeningUrl(server, resolved);
        log?.info({url, redis: redactRedisUrl(resolved.redisUrl), token: resolved.token !== undefined}, "dashboard listening");
        return new DashboardServer({url, server, redis, queues, board, actions, logger: log});
    }

    /** Stops listening, ends the live streams and retry sessions, disconnects. Idempotent. */
    public close(): Promise<void> {
        this.#closing ??= (async () => {
            this.#board.close();
            const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
            // live streams never end by themselves
            this.#server.closeAllConnections();
            await closed;
            await this.#actions.close();
            // Redis may be gone already (the embedded one of a finished run): never wait on it for long
            await settleWithin(this.#queues.close(), 1000);
            await settleWithin(closeRedis(this.#redis), 1000);
            this.#redis.disconnect();
            this.#log?.debug("dashboard closed");
        })();
        return this.#closing;
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

function listeningUrl(server: Server, options: ResolvedDashboardOptions): string {
    const port = (server.address() as AddressInfo).port;
    const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
