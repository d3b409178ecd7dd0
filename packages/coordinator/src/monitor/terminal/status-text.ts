import {describeNumerics, terminalSafeStrings, type FleetStatus, type RunStatusReport, type RunWorker, type WorkerState, type WorkerStatus} from "@orchard/shared";
import {
    formatBytes, formatClock, formatCount, formatDocsRate, formatDuration, formatTokensRate, paint, progressBar, table, truncate, truncateLeft, type Paint
} from "./text-format.ts";

export interface TextOptions {
    /** ANSI colours. Default false. */
    readonly color?: boolean;
    /** Terminal width in columns. Default 100. */
    readonly width?: number;
}

/*
 * Every renderer starts by passing its report through terminalSafeStrings: names, hosts, messages
 * and ids come from Redis, which any worker machine can write, and must not carry escape sequences
 * to the operator's terminal. (The JSON output needs no such care: JSON escapes control characters.)
 */

/** `orchard status` without a run: the recent runs, one line each, then the fleet's workers. */
export function renderFleetStatus(unsafeStatus: FleetStatus, options: TextOptions = {}): string {
    const status = terminalSafeStrings(unsafeStatus);
    const p = paint(options.color ?? false);
    const width = options.width ?? 100;
    const lines: string[] = [];
    if (status.runs.length === 0) lines.push(p.dim(`No runs under key prefix "${status.keyPrefix}".`));
    else {
        const barWidth = width >= 110 ? 20 : 10;
        lines.push(...table([
            ["RUN", "STATUS", "PROGRESS", "", "DOCUMENTS", "TOK/S", "ETA", "WORKERS", "FAILED", "CREATED"].map((title) => p.dim(title)),
            ...status.runs.map((run) => [
                run.runId, statusWord(run, p),
                progressBar(run.documents.merged, run.documents.missing, run.documents.total, barWidth), `${run.percent.toFixed(1)}%`,
                `${formatCount(run.documents.merged)}/${formatCount(run.documents.total)}`,
                run.status === "running" ? formatTokensRate(run.throughput.tokensPerSecond) : "-",
                run.eta.seconds === null ? "-" : formatDuration(run.eta.seconds),
                String(run.activeWorkers),
                run.shards.failed > 0 ? p.red(String(run.shards.failed)) : "0",
                formatClock(run.createdAt)
            ])
        ], {right: [3, 4, 5, 7, 8]}));
    }
    lines.push("", ...renderWorkers(status.workers, p));
    return lines.join("\n");
}

/** `orchard status RUN`: everything about one run. */
export function renderRunDetail(unsafeRun: RunStatusReport, options: TextOptions = {}): string {
    const run = terminalSafeStrings(unsafeRun);
    const p = paint(options.color ?? false);
    const width = options.width ?? 100;
    const lines: string[] = [];
    lines.push(`${p.bold(`Run ${run.runId}`)}  ${statusWord(run, p)}  ${healthWord(run, p)}  ${p.dim(`coordinator ${run.coordinator}`)}`);
    lines.push(p.dim(`task ${run.task ?? "reask"}, model ${run.model.file} (${run.model.fingerprint.slice(0, 12)}), queue ${run.model.queue}, ${run.shardSize} documents per shard (fewer near the end), ` +
        `created ${formatClock(run.createdAt)}${run.finishedAt === null ? "" : `, finished ${formatClock(run.finishedAt)}`}`));
    for (const problem of run.problems) lines.push(`  ${problemMark(run, p)} ${problem}`);
    lines.push("");
    lines.push(...renderProgress(run, p, width));
    lines.push("");
    lines.push(`Throughput  ${formatTokensRate(run.throughput.tokensPerSecond)} tokens/s, ${formatDocsRate(run.throughput.documentsPerSecond)} documents/s ` +
        p.dim(`(${run.status === "running" ? "last" : "its last"} ${formatDuration(run.throughput.windowSeconds)}${run.status === "running" ? "" : " of work"}; ${formatCount(run.throughput.tokens)} tokens in all)`));
    lines.push(`ETA         ${etaText(run)}`);
    lines.push(`Shards      ${run.shards.merged}/${run.shards.total} merged, ${run.shards.waiting} waiting to merge, ${run.shards.failed} failed` +
        (run.shards.retrying > 0 ? `, ${run.shards.retrying} retrying` : ""));
    lines.push(`Queue       ${run.queue.name}: ${run.queue.waiting} waiting, ${run.queue.active} active, ${run.queue.delayed} delayed, ${run.queue.failed} failed`);
    lines.push(...renderNumerics(run, p));
    lines.push("");
    lines.push(p.bold(`Workers (${run.activeWorkers} active)`));
    if (run.workers.length === 0) lines.push(p.dim("  none yet"));
    else lines.push(...table([
        ["NAME", "HOST", "CHIP / BACKEND", "STATE", "DOCS", "TOK/S", "HEARTBEAT", "SHARD"].map((title) => p.dim(title)),
        ...run.workers.map((worker) => [
            worker.name, worker.host ?? "?", truncate(`${worker.chip ?? "?"} / ${worker.backend ?? "?"}`, 34), stateWord(worker.state, p),
            formatCount(worker.documents), formatTokensRate(worker.tokensPerSecond), heartbeatText(worker.heartbeatAgeSeconds),
            worker.currentShards.length === 0 ? "-" : worker.currentShards.map((shard) => `#${shard}`).join(",")
        ])
    ], {right: [4, 5]}).map((line) => `  ${line}`));
    if (run.failedShards.length > 0) {
        lines.push("", p.bold(`Failed shards (${run.failedShards.length})`));
        for (const shard of run.failedShards) {
            const where = `${shard.file} documents ${shard.firstDocument}-${shard.firstDocument + shard.documents - 1}`;
            lines.push(shard.retrying
                ? `  #${shard.shard}  ${where}  ${p.cyan("retrying")}`
                : `  #${shard.shard}  ${where}  ${p.red(`[${shard.code}]`)} ${truncate(shard.message, Math.max(30, width - 40))} ` +
                p.dim(`(${shard.attempts} attempt${shard.attempts === 1 ? "" : "s"}, ${formatClock(shard.at)})`));
        }
        if (run.failedShards.some((shard) => !shard.retrying)) lines.push(p.dim(`  rerun with: orchard retry-failed ${run.runId}   (or the dashboard's retry buttons)`));
    }
    if (run.skippedDocuments.count > 0) {
        lines.push("", p.bold(`Refused documents (${run.skippedDocuments.count})`));
        const byCode = Object.entries(run.skippedDocuments.byCode ?? {});
        if (byCode.length > 0) lines.push(`  ${byCode.map(([code, count]) => `${code} ${formatCount(count)}`).join(", ")}`);
        for (const doc of run.skippedDocuments.first) lines.push(`  ${doc.file}:${doc.line} ${doc.id} [${doc.code}] ${truncate(doc.message, Math.max(30, width - 40))}`);
    }
    return lines.join("\n");
}

/** The run's pinned numerics, its machine requirement, and how its merged documents split across machines. */
function renderNumerics(run: RunStatusReport, p: Paint): string[] {
    const lines: string[] = [];
    const n = run.numerics;
    if (n !== undefined)
        lines.push(`Numerics    ${describeNumerics(n)}` +
            (n.recorded ? p.dim(" (pinned: every worker computes with these)") : p.dim(" (a run made before numerics were recorded: today's defaults)")));
    const requires = [run.requires?.backend, run.requires?.chip === null || run.requires?.chip === undefined ? null : `chip ${JSON.stringify(run.requires.chip)}`].filter((item) => item !== null && item !== undefined);
    if (requires.length > 0) lines.push(`Requires    ${requires.join(", ")}`);
    const machines = run.machines ?? [];
    if (machines.length > 0) {
        lines.push(`Machines    ${machines.length === 1 ? "" : p.yellow(`${machines.length} kinds: numbers differ between them `)}` + p.dim("(documents of merged shards; orchard provenance lists each document)"));
        lines.push(...table([
            ["BACKEND", "CHIP", "BUILD", "DOCS", "SHARDS"].map((title) => p.dim(title)),
            ...machines.map((machine) => [machine.backend, truncate(machine.chip, 40), truncate(machine.builds.join(", ") || "-", 30), formatCount(machine.documents), String(machine.shards)])
        ], {right: [3, 4]}).map((line) => `  ${line}`));
    }
    return lines;
}

/** The live view of `orchard run` on a terminal: progress bars, rates, ETA, workers, failures. */
export function renderLiveView(unsafeRun: RunStatusReport, options: TextOptions & {maxWorkers?: number} = {}): string[] {
    const run = terminalSafeStrings(unsafeRun);
    const p = paint(options.color ?? false);
    const width = options.width ?? 100;
    const lines: string[] = [];
    lines.push(`${p.bold(run.runId)}  ${statusWord(run, p)}  ${healthWord(run, p)}${(run.task ?? "reask") === "reask" ? "" : `  ${p.dim(`task ${run.task}`)}`}`);
    lines.push(...renderProgress(run, p, width));
    lines.push(`  ${formatTokensRate(run.throughput.tokensPerSecond)} tok/s · ${formatDocsRate(run.throughput.documentsPerSecond)} docs/s (last ${formatDuration(run.throughput.windowSeconds)})` +
        ` · ETA ${etaText(run)} · ${run.activeWorkers} worker${run.activeWorkers === 1 ? "" : "s"} active` +
        (run.shards.failed > 0 ? ` · ${p.red(`${run.shards.failed} failed shard${run.shards.failed === 1 ? "" : "s"}`)}` : "") +
        (run.documents.missing > 0 ? ` · ${p.red(`${formatCount(run.documents.missing)} missing`)}` : ""));
    const shown = run.workers.slice(0, options.maxWorkers ?? 6);
    if (shown.length > 0)
        lines.push(...table(shown.map((worker) => [
            worker.name, `${worker.backend ?? "?"}`, stateWord(worker.state, p), `${formatTokensRate(worker.tokensPerSecond)} tok/s`, `${formatCount(worker.documents)} docs`,
            worker.currentShards.length === 0 ? "" : `shard ${worker.currentShards.map((shard) => `#${shard}`).join(",")}`, p.dim(heartbeatText(worker.heartbeatAgeSeconds))
        ]), {right: [3, 4]}).map((line) => `  ${truncate(line, width + 40)}`));
    if (run.workers.length > shown.length) lines.push(p.dim(`  ... and ${run.workers.length - shown.length} more workers`));
    for (const problem of run.problems) lines.push(`  ${problemMark(run, p)} ${truncate(problem, width - 4)}`);
    return lines;
}

/** One line for logs (not a TTY): progress, rates, ETA, workers, failures. */
export function renderRunLine(unsafeRun: RunStatusReport): string {
    const run = terminalSafeStrings(unsafeRun);
    return `${run.runId}: ${formatCount(run.documents.merged)}/${formatCount(run.documents.total)} documents (${run.percent.toFixed(1)}%)` +
        (run.documents.missing > 0 ? `, ${formatCount(run.documents.missing)} missing` : "") +
        ` | ${formatTokensRate(run.throughput.tokensPerSecond)} tok/s, ${formatDocsRate(run.throughput.documentsPerSecond)} docs/s` +
        ` | ETA ${etaText(run)} | ${run.activeWorkers} workers active | ${run.shards.failed} failed shards | ` +
        // "starting" is said by its sentence ("starting 2 local workers ...")
        (run.health === "starting" ? run.problems.join("; ") : `${run.health}${run.problems.length > 0 ? `: ${run.problems.join("; ")}` : ""}`);
}

function renderProgress(run: RunStatusReport, p: Paint, width: number): string[] {
    const labelWidth = Math.min(28, Math.max(7, ...run.inputs.map((input) => input.file.length)));
    const barWidth = Math.max(10, Math.min(40, width - labelWidth - 36));
    const line = (label: string, merged: number, missing: number, total: number, percent: number) =>
        `  ${truncateLeft(label, labelWidth).padEnd(labelWidth)}  ${p.green(progressBar(merged, missing, total, barWidth))}  ${percent.toFixed(1).padStart(5)}%  ` +
        `${formatCount(merged)}/${formatCount(total)}${missing > 0 ? p.red(` (${formatCount(missing)} missing)`) : ""}`;
    const lines = run.inputs.length > 1 ? run.inputs.slice(0, 12).map((input) => line(input.file, input.merged, input.missing, input.documents, input.percent)) : [];
    if (run.inputs.length > 12) lines.push(p.dim(`  ... and ${run.inputs.length - 12} more inputs`));
    lines.push(line(run.inputs.length > 1 ? "overall" : run.inputs[0]?.file ?? "overall", run.documents.merged, run.documents.missing, run.documents.total, run.percent));
    return lines;
}

function renderWorkers(workers: readonly WorkerStatus[], p: Paint): string[] {
    if (workers.length === 0) return [p.dim("No workers heard from in the last hour.")];
    return [
        p.bold(`Workers (${workers.filter((worker) => worker.state === "busy" || worker.state === "idle").length} active)`),
        ...table([
            ["NAME", "HOST", "CHIP / BACKEND", "MEMORY", "STATE", "TOK/S", "ENGINE TOK/S", "DOCS", "HEARTBEAT", "SHARD"].map((title) => p.dim(title)),
            ...workers.map((worker) => [
                worker.name, worker.host, truncate(`${worker.chip} / ${worker.backend}`, 34), formatBytes(worker.memory.totalBytes),
                worker.paused === null ? stateWord(worker.state, p) : p.yellow(`paused: ${truncate(worker.paused, 30)}`),
                formatTokensRate(worker.tokensPerSecond), worker.engineTokensPerSecond === null ? "-" : formatTokensRate(worker.engineTokensPerSecond),
                formatCount(worker.totals.documents), heartbeatText(worker.heartbeatAgeSeconds),
                worker.current.length === 0 ? "-" : worker.current.map((shard) => `${shard.runId}#${shard.shard}`).join(",")
            ])
        ], {right: [5, 6, 7]}).map((line) => `  ${line}`)
    ];
}

function etaText(run: RunStatusReport): string {
    if (run.status === "completed") return "done";
    if (run.eta.seconds === null || run.eta.at === null) return run.status === "running" ? "unknown (no recent progress)" : "-";
    return `${formatDuration(run.eta.seconds)} (${formatClock(run.eta.at)})`;
}

function heartbeatText(ageSeconds: number | null): string {
    return ageSeconds === null ? "never" : `${formatDuration(ageSeconds)} ago`;
}

function statusWord(run: RunStatusReport, p: Paint): string {
    switch (run.status) {
        case "completed":
            return p.green("completed");
        case "running":
            return p.cyan("running");
        case "incomplete":
            return p.red("incomplete");
        case "cancelled":
            return p.yellow("cancelled");
    }
}

function healthWord(run: RunStatusReport, p: Paint): string {
    switch (run.health) {
        case "ok":
            return p.green("● healthy");
        case "starting":
            return p.cyan("● starting");
        case "warning":
            return p.yellow("● warning");
        case "error":
            return p.red("● failing");
    }
}

/** The mark before each of a run's problems: the health it brought. */
function problemMark(run: RunStatusReport, p: Paint): string {
    return run.health === "error" ? p.red("!") : run.health === "starting" ? p.cyan("…") : p.yellow("!");
}

function stateWord(state: WorkerState | RunWorker["state"], p: Paint): string {
    return state === "lost" ? p.red("lost") : state === "busy" ? p.green("busy") : state === "idle" ? "idle" : p.dim(state);
}
