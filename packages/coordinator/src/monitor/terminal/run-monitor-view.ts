import type {Logger, RunStatusReport} from "@orchard/shared";
import type {Redis} from "ioredis";
import {createRunProgressView} from "../../cli/run-progress-view.ts";
import {connectRedis, settleWithin} from "@orchard/shared";
import type {CoordinatorEvent} from "../../run/coordinator-events.ts";
import type {DashboardServer} from "../dashboard/dashboard-server.ts";
import {StatusCollector} from "../status-collector.ts";
import {pendingLocalWorkers} from "../status/run-status-builder.ts";
import type {LiveTerminal} from "./live-terminal.ts";
import {renderLiveView, renderRunLine} from "./status-text.ts";
import {colorFor} from "./text-format.ts";

export interface RunMonitorViewOptions {
    readonly logger: Logger;
    readonly terminal: LiveTerminal;
    readonly keyPrefix: string;
    /** The model path as the user typed it, for the "join from another machine" line. */
    readonly modelHint?: string;
    /** The state folder as the user gave it, for the "more workers on this machine" line. */
    readonly stateDirHint?: string;
    /** Plain status lines this often when not on a TTY, in ms. Default 30,000. */
    readonly lineIntervalMs?: number;
    /** Also serve the dashboard while the run goes on. */
    readonly dashboard?: {readonly host?: string; readonly port?: number; readonly token?: string};
    /**
     * How long local workers may take to report (load the model) before the run is judged without
     * them, in ms. Default 10 minutes: a 26 GB Mixtral read from a slow disk, with room to spare.
     */
    readonly localWorkerStartGraceMs?: number;
}

export interface RunMonitorView {
    readonly onEvent: (event: CoordinatorEvent) => void;
    /**
     * Draws the final state, stops the dashboard, disconnects. Idempotent. Call it before the run's
     * Redis goes away (the coordinator's `beforeRedisClose`), else its connection warns as it retries.
     */
    readonly stop: () => Promise<void>;
}

/**
 * What `orchard run` shows while it coordinates: on a terminal, a block redrawn every second
 * (a progress bar per input and overall, documents, tokens/s over the last minute, ETA, active
 * workers, failures, the busiest workers); elsewhere (CI, nohup, launchd) one plain log line at the
 * start and every 30 s. Reads the same status as `orchard status`, over its own Redis connection;
 * if that fails it falls back to the coordinator's own progress line. Optionally serves the dashboard.
 */
export function createRunMonitorView(options: RunMonitorViewOptions): RunMonitorView {
    const {terminal, logger} = options;
    const inner = createRunProgressView({
        logger, ...(options.modelHint === undefined ? {} : {modelHint: options.modelHint}),
        ...(options.stateDirHint === undefined ? {} : {stateDirHint: options.stateDirHint}), stream: terminal.stream
    });
    const lineIntervalMs = options.lineIntervalMs ?? 30_000;
    let runId: string | undefined;
    let redis: Redis | undefined;
    let collector: StatusCollector | undefined;
    let dashboard: DashboardServer | undefined;
    let connecting: Promise<void> | undefined;
    let refreshing: Promise<void> | undefined;
    let broken = false;
    let stopped = false;
    let lastLine = 0;
    // the local workers this run started and still waits for (see RunStatusContext), until they all reported or the grace ran out
    let starting: {names: readonly string[]; untilMs: number} | undefined;
    let stopping: Promise<void> | undefined;

    const show = (status: RunStatusReport) => {
        if (terminal.interactive) terminal.draw(renderLiveView(status, {color: colorFor(terminal.stream), width: terminal.stream.columns ?? 100}));
        else {
            logger.info({
                runId: status.runId, merged: status.documents.merged, missing: status.documents.missing, total: status.documents.total,
                tokensPerSecond: Math.round(status.throughput.tokensPerSecond), documentsPerSecond: status.throughput.documentsPerSecond,
                etaSeconds: status.eta.seconds === null ? null : Math.round(status.eta.seconds), activeWorkers: status.activeWorkers,
                failedShards: status.shards.failed, health: status.health
            }, renderRunLine(status));
        }
    };
    const refresh = (force = false): Promise<void> => {
        if (refreshing !== undefined || collector === undefined || runId === undefined) return refreshing ?? Promise.resolve();
        if (!terminal.interactive && !force && Date.now() - lastLine < lineIntervalMs) return Promise.resolve();
        const current = collector;
        const id = runId;
        refreshing = (async () => {
            try {
                if (starting !== undefined && Date.now() > starting.untilMs) starting = undefined;
                const status = await current.run(id, starting === undefined ? {} : {startingLocalWorkers: starting.names});
                // once every local worker has reported, health is judged as for any run, even if one of them goes later
                if (starting !== undefined && pendingLocalWorkers(starting.names, status.workers).length === 0) starting = undefined;
                lastLine = Date.now();
                show(status);
            } catch (error) {
                if (!broken) logger.warn({err: (error as Error).message}, "the run's status cannot be read; showing the coordinator's progress only");
                broken = true;
            }
        })().finally(() => (refreshing = undefined));
        return refreshing;
    };
    const start = async (event: Extract<CoordinatorEvent, {type: "started"}>) => {
        try {
            const connected = await connectRedis(event.redisUrl, {logger, name: "orchard-run-monitor"});
            // the run may have ended while we connected
            if (stopped) return connected.disconnect();
            redis = connected;
            collector = new StatusCollector({redis, keyPrefix: options.keyPrefix, logger});
        } catch (error) {
            broken = true;
            logger.warn({err: (error as Error).message}, "the live view cannot read Redis; showing the coordinator's progress only");
        }
        if (options.dashboard !== undefined && !stopped) {
            try {
                // loaded only when asked for: express, bull-board and prom-client are ~10 MB of a run's RSS
                const {DashboardServer} = await import("../dashboard/dashboard-server.ts");
                const server = await DashboardServer.start({
                    redisUrl: event.redisUrl, keyPrefix: options.keyPrefix, ...options.dashboard, allowRetrySessions: false, logger
                });
                if (stopped) return void await server.close();
                dashboard = server;
                terminal.clear();
                process.stdout.write(`Dashboard: ${dashboard.url}/runs/${event.runId}${options.dashboard.token === undefined ? "" : "   (open it with ?token=<your token> once)"}\n`);
            } catch (error) {
                logger.warn({err: (error as Error).message}, "the dashboard could not start; the run goes on without it");
            }
        }
    };

    return {
        onEvent: (event) => {
            if (event.type === "started") {
                terminal.clear();
                inner.onEvent(event);
                runId = event.runId;
                if (event.localWorkerNames.length > 0)
                    starting = {names: event.localWorkerNames, untilMs: Date.now() + (options.localWorkerStartGraceMs ?? 10 * 60_000)};
                connecting = start(event);
                return;
            }
            if (event.type === "patching") {
                terminal.clear();
                inner.onEvent(event);
                return;
            }
            if (broken) inner.onEvent(event);
            else void refresh();
        },
        stop: () => (stopping ??= (async () => {
            // the run is over and an embedded Redis may be gone with it: wait on Redis briefly, never forever
            await settleWithin(connecting, 5000);
            stopped = true;
            if (!broken && terminal.interactive && redis?.status === "ready") await settleWithin(refreshing ?? refresh(true), 2000);
            else await settleWithin(refreshing, 1000);
            terminal.finish();
            inner.stop();
            await settleWithin(dashboard?.close(), 5000);
            await settleWithin(collector?.close(), 1000);
            redis?.disconnect();
        })())
    };
}
