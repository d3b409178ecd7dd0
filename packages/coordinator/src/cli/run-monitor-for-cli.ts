import {createLogger, prettyLogsFor, readOrchardEnvironment, resolveWebToken, type GlobalCliOptions, type Logger} from "@orchard/shared";
import {resolveDashboardOptions} from "../monitor/dashboard/dashboard-options.ts";
import {LiveTerminal} from "../monitor/terminal/live-terminal.ts";
import {createRunMonitorView, type RunMonitorView} from "../monitor/terminal/run-monitor-view.ts";
import type {RunDashboardFlagValues} from "./dashboard-flags.ts";

/**
 * The logger and the live view of a command that coordinates a run (run, resume, retry-failed):
 * on a terminal the logger writes above the live block. The dashboard settings are checked here,
 * before any work starts, so a public address without a token fails at once.
 */
export function createRunMonitorForCli(args: GlobalCliOptions & RunDashboardFlagValues & {redisPrefix: string; stateDir?: string}, options: {name: string; modelHint?: string}): {logger: Logger; view: RunMonitorView} {
    const terminal = new LiveTerminal(process.stderr);
    const logger = createLogger({
        level: args.logLevel, pretty: prettyLogsFor(args.logFormat), name: options.name, ...(terminal.interactive ? {destination: terminal.logStream} : {})
    });
    let dashboard: {host: string; port: number; token?: string} | undefined;
    if (args.dashboard === true) {
        const token = resolveWebToken({
            flag: "--dashboard-token", value: args.dashboardToken, fileFlag: "--dashboard-token-file", file: args.dashboardTokenFile,
            environment: readOrchardEnvironment().dashboardToken
        }, logger);
        const checked = resolveDashboardOptions({
            redisUrl: "redis://127.0.0.1", ...(args.dashboardHost === undefined ? {} : {host: args.dashboardHost}),
            ...(args.dashboardPort === undefined ? {} : {port: args.dashboardPort}), ...(token === undefined ? {} : {token})
        });
        dashboard = {host: checked.host, port: checked.port, ...(checked.token === undefined ? {} : {token: checked.token})};
    }
    const view = createRunMonitorView({
        logger, terminal, keyPrefix: args.redisPrefix, ...(options.modelHint === undefined ? {} : {modelHint: options.modelHint}),
        ...(args.stateDir === undefined ? {} : {stateDirHint: args.stateDir}),
        ...(dashboard === undefined ? {} : {dashboard})
    });
    return {logger, view};
}
