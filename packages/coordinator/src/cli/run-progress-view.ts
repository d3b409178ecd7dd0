import {DEFAULT_STATE_DIR, redactRedisUrl, terminalSafeStrings, type Logger} from "@orchard/shared";
import type {CoordinatorEvent} from "../run/coordinator-events.ts";

/** Non-interactive progress lines are logged this often. */
const LOG_EVERY_MS = 30_000;

/**
 * Shows a run's progress: one line rewritten in place on a terminal (stderr), an info log line every
 * 30 s otherwise. Prints the run id and how other machines join when the run starts (stdout).
 */
export function createRunProgressView(options: {logger: Logger; modelHint?: string; stateDirHint?: string; stream?: NodeJS.WriteStream}) {
    const stream = options.stream ?? process.stderr;
    const interactive = stream.isTTY === true;
    let lastLog = 0;
    let drawn = false;
    const clear = () => {
        if (drawn) stream.write("\r\x1b[2K");
        drawn = false;
    };
    return {
        onEvent: (unsafeEvent: CoordinatorEvent) => {
            // a resumed run's queue name and id come from its record in Redis
            const event = terminalSafeStrings(unsafeEvent);
            if (event.type === "started") {
                clear();
                process.stdout.write(
                    `Run ${event.runId} (${event.resumed ? "resumed" : "new"}): ${event.mergedDocuments}/${event.totalDocuments} documents merged, queue ${event.queueName}` +
                    (event.localWorkers > 0 ? `, ${event.localWorkers} local worker${event.localWorkers === 1 ? "" : "s"}` : "") + "\n" +
                    `Redis: ${redactRedisUrl(event.redisUrl)}${event.embeddedRedis ? " (embedded)" : ""}\n` +
                    joinHint(event.joinUrl, event.advertisedAs, options.modelHint ?? "<the same model file>", options.stateDirHint));
                return;
            }
            if (event.type === "patching") {
                clear();
                process.stdout.write(`Rerunning ${event.shards} failed shard${event.shards === 1 ? "" : "s"} of run ${event.runId}\n`);
                return;
            }
            const done = event.merged + event.missing;
            const percent = event.total > 0 ? (100 * done) / event.total : 100;
            const eta = event.documentsPerSecond > 0 ? formatSeconds((event.total - done) / event.documentsPerSecond) : "-";
            const text = `${event.runId}: ${event.merged}/${event.total} documents (${percent.toFixed(1)}%)` +
                (event.missing > 0 ? ` | ${event.missing} missing` : "") +
                ` | ${event.workers ?? "?"} workers | ${event.documentsPerSecond.toFixed(2)} docs/s | ETA ${eta}`;
            if (interactive) {
                stream.write(`\r\x1b[2K${text}`);
                drawn = true;
            } else if (Date.now() - lastLog >= LOG_EVERY_MS) {
                lastLog = Date.now();
                options.logger.info({merged: event.merged, missing: event.missing, total: event.total, workers: event.workers, documentsPerSecond: event.documentsPerSecond}, text);
            }
        },
        stop: clear
    };
}

function formatSeconds(seconds: number): string {
    if (!Number.isFinite(seconds)) return "-";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * How more workers join. The URL goes in the environment, not on the worker's command line, where
 * every user of that machine could read its password in `ps`; an embedded Redis on loopback is
 * joined from this machine through its state folder (address and password in a file of mode 600).
 */
function joinHint(joinUrl: string | undefined, advertisedAs: string | undefined, model: string, stateDir: string | undefined): string {
    const byName = advertisedAs === undefined ? "" : `  or: orchard worker --model ${model} --join ${advertisedAs}   (found on the LAN; it asks once for the password in this URL)\n`;
    if (joinUrl !== undefined) return `Join from another machine: ORCHARD_REDIS_URL='${joinUrl}' orchard worker --model ${model}\n${byName}`;
    const stateDirFlag = stateDir === undefined || stateDir === DEFAULT_STATE_DIR ? "" : ` --state-dir ${stateDir}`;
    return `More workers on this machine (same folder): orchard worker --model ${model}${stateDirFlag}   (--redis-bind 0.0.0.0 lets other machines join)\n`;
}
