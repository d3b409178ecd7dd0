import {isOrchardError, OrchardError, runIdSchema, type Logger} from "@orchard/shared";
import express, {type NextFunction, type Request, type Response, type Router} from "express";
import type {RunActions} from "../run-actions.ts";
import type {FleetMetrics} from "./fleet-metrics.ts";
import type {NoticeBoard} from "./notice-board.ts";
import {METRICS_RUN_LIMIT} from "./fleet-metrics.ts";
import type {SnapshotCache} from "./snapshot-cache.ts";

export interface DashboardRoutesContext {
    readonly cache: SnapshotCache;
    readonly actions: RunActions;
    readonly notices: NoticeBoard;
    readonly metrics: FleetMetrics;
    readonly refreshMs: number;
    readonly logger: Logger | undefined;
}

/** Runs listed by the fleet page and its stream. */
const LIST_LIMIT = 20;
/** The chart is recomputed this often on a run's stream. */
const THROUGHPUT_EVERY_MS = 5_000;
/** A comment line keeps proxies and phones from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The JSON API, the live streams (server-sent events), the actions and /metrics. */
export function dashboardRoutes(context: DashboardRoutesContext): Router {
    const router = express.Router();
    const {cache, actions, notices} = context;

    router.get("/api/status", async (request, response) => {
        const run = request.query["run"];
        response.json(await cache.fleet(limitOf(request.query["limit"]), typeof run === "string" && run !== "" ? runId(run) : undefined));
    });
    router.get("/api/runs/:runId", async (request, response) => {
        response.json(await cache.run(runId(request.params["runId"])));
    });
    router.get("/api/runs/:runId/throughput", async (request, response) => {
        response.json(await cache.throughput(await cache.run(runId(request.params["runId"]))));
    });

    router.get("/api/events", (request, response) => {
        stream(request, response, context, async (send) => send("fleet", await cache.fleet(LIST_LIMIT)));
    });
    router.get("/api/runs/:runId/events", async (request, response) => {
        const id = runId(request.params["runId"]);
        await cache.run(id); // 404 before the stream opens
        let lastNotice = notices.lastId;
        let lastThroughput = 0;
        stream(request, response, context, async (send) => {
            const run = await cache.run(id);
            send("status", run);
            if (Date.now() - lastThroughput >= THROUGHPUT_EVERY_MS || run.status !== "running") {
                lastThroughput = Date.now();
                send("throughput", await cache.throughput(run));
            }
            for (const notice of notices.since(id, lastNotice)) {
                send("notice", notice);
                lastNotice = notice.id;
            }
        });
    });

    router.post("/api/runs/:runId/shards/:shard/retry", async (request, response) => {
        const shard = Number(request.params["shard"]);
        if (!Number.isInteger(shard) || shard < 0) throw new OrchardError("INVALID_ARGUMENT", `not a shard number: ${request.params["shard"]}`);
        const outcome = await actions.retry(runId(request.params["runId"]), [shard]);
        notices.add(outcome.runId, "info", outcome.message);
        response.status(202).json(outcome);
    });
    router.post("/api/runs/:runId/retry-failed", async (request, response) => {
        const outcome = await actions.retry(runId(request.params["runId"]), "all");
        notices.add(outcome.runId, "info", outcome.message);
        response.status(202).json(outcome);
    });
    router.post("/api/runs/:runId/cancel", async (request, response) => {
        const outcome = await actions.cancel(runId(request.params["runId"]));
        notices.add(outcome.runId, "info", outcome.message);
        response.json(outcome);
    });

    router.get("/metrics", async (_request, response) => {
        const text = await context.metrics.render(await cache.fleet(METRICS_RUN_LIMIT));
        response.type(context.metrics.contentType).send(text);
    });
    return router;
}

/** JSON errors: Orchard's codes mapped to HTTP statuses. */
export function dashboardErrorHandler(logger: Logger | undefined) {
    return (error: unknown, _request: Request, response: Response, next: NextFunction): void => {
        if (response.headersSent) return next(error);
        if (isOrchardError(error)) {
            const status = {INVALID_ARGUMENT: 400, RUN_NOT_FOUND: 404, RUN_BUSY: 409, RUN_CANCELLED: 409, RUN_RECORD_MISMATCH: 409, REDIS_UNAVAILABLE: 503}[error.code as string] ?? 500;
            response.status(status).json({error: {code: error.code, message: error.message}});
            return;
        }
        logger?.error({err: error}, "dashboard request failed");
        response.status(500).json({error: {code: "INTERNAL", message: (error as Error).message ?? String(error)}});
    };
}

/**
 * A server-sent event stream: `tick` runs now and every refresh interval, sending what it wants;
 * a failed read is reported as a `problem` event and retried at the next tick. Ends with the client.
 */
function stream(request: Request, response: Response, context: DashboardRoutesContext, tick: (send: (event: string, data: unknown) => void) => Promise<void>): void {
    response.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", "Connection": "keep-alive", "X-Accel-Buffering": "no"
    });
    response.write(`retry: 2000\n\n`);
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let lastWrite = Date.now();
    const send = (event: string, data: unknown) => {
        if (closed) return;
        response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        lastWrite = Date.now();
    };
    const run = async () => {
        if (closed) return;
        try {
            await tick(send);
        } catch (error) {
            send("problem", {message: (error as Error).message ?? String(error)});
        }
        if (!closed && Date.now() - lastWrite > KEEPALIVE_MS) {
            response.write(": keepalive\n\n");
            lastWrite = Date.now();
        }
        if (!closed) timer = setTimeout(() => void run(), context.refreshMs);
    };
    request.on("close", () => {
        closed = true;
        clearTimeout(timer);
    });
    void run();
}

function runId(value: unknown): string {
    const parsed = runIdSchema.safeParse(value);
    if (!parsed.success) throw new OrchardError("INVALID_ARGUMENT", `not a run id: ${String(value)}`);
    return parsed.data;
}

function limitOf(value: unknown): number {
    const limit = Number(value ?? LIST_LIMIT);
    return Number.isInteger(limit) && limit > 0 && limit <= 500 ? limit : LIST_LIMIT;
}
