import {execFile} from "node:child_process";
import {chmod, mkdir, rename, rm, stat, writeFile} from "node:fs/promises";
import {dirname, join} from "node:path";
import {OrchardError} from "@orchard/shared";
import {renderLaunchAgent} from "./render-launch-agent.ts";
import {renderSystemdUnit} from "./render-systemd-unit.ts";
import type {ServiceCommandResult, ServiceCommandRunner, ServicePlatform, WorkerServicePaths, WorkerServiceSpec} from "./types.ts";

/** The service's name when none is given: launchd labels are reverse-DNS, systemd units plain. */
export function defaultServiceName(platform: ServicePlatform): string {
    return platform === "macos" ? "com.orchard.worker" : "orchard-worker";
}

/**
 * Where a worker service's files go for a user whose home is `homeDir`: macOS's LaunchAgents,
 * Logs and Application Support folders; on Linux the XDG config folder (`configHome`, default
 * ~/.config) for the unit and the URL file.
 */
export function workerServicePaths(platform: ServicePlatform, name: string, homeDir: string, configHome?: string): WorkerServicePaths {
    if (platform === "macos") return {
        serviceFile: join(homeDir, "Library", "LaunchAgents", `${name}.plist`),
        redisUrlFile: join(homeDir, "Library", "Application Support", "Orchard", `${name}.redis-url`),
        logFile: join(homeDir, "Library", "Logs", "orchard", `${name}.log`)
    };
    const config = configHome ?? join(homeDir, ".config");
    return {
        serviceFile: join(config, "systemd", "user", `${name}.service`),
        redisUrlFile: join(config, "orchard", `${name}.redis-url`),
        // systemd sends the worker's output to the journal; nothing is written here
        logFile: `journalctl --user -u ${name}.service`
    };
}

/** The plist or unit file's text. */
export function renderWorkerService(spec: WorkerServiceSpec): string {
    return spec.platform === "macos" ? renderLaunchAgent(spec) : renderSystemdUnit(spec);
}

/**
 * The service manager commands that load a freshly written service: launchd refuses to bootstrap
 * a label already loaded, so a previous one is booted out first (its failure when none is loaded
 * is expected); systemd re-reads unit files on daemon-reload, and restart applies new flags to a
 * worker already running.
 */
export function installCommands(spec: WorkerServiceSpec, paths: WorkerServicePaths, uid: number): Array<[string, string[]]> {
    if (spec.platform === "macos") return [
        ["launchctl", ["bootout", `gui/${uid}/${spec.name}`]],
        ["launchctl", ["bootstrap", `gui/${uid}`, paths.serviceFile]]
    ];
    return [
        ["systemctl", ["--user", "daemon-reload"]],
        ["systemctl", ["--user", "enable", "--now", `${spec.name}.service`]],
        ["systemctl", ["--user", "restart", `${spec.name}.service`]]
    ];
}

export interface InstallWorkerServiceOptions {
    readonly spec: WorkerServiceSpec;
    readonly paths: WorkerServicePaths;
    /** The fleet's Redis URL, written to `paths.redisUrlFile` with mode 600. */
    readonly redisUrl: string;
    /** The user's id (launchd's gui/<uid> domain). */
    readonly uid: number;
    readonly runner: ServiceCommandRunner;
}

/**
 * Writes the URL file (mode 600, in a folder of mode 700), the plist or unit and the log folder,
 * then loads the service. A service manager that refuses is a SERVICE_MANAGER_FAILED quoting it.
 */
export async function installWorkerService(options: InstallWorkerServiceOptions): Promise<void> {
    const {spec, paths} = options;
    await writePrivateFile(paths.redisUrlFile, `${options.redisUrl}\n`);
    await mkdir(dirname(paths.serviceFile), {recursive: true});
    await writeAtomically(paths.serviceFile, renderWorkerService(spec), 0o644);
    if (spec.platform === "macos") await mkdir(dirname(paths.logFile), {recursive: true});
    const commands = installCommands(spec, paths, options.uid);
    for (const [index, [command, args]] of commands.entries()) {
        const result = await options.runner(command, args);
        // the first launchctl command only clears a previous install: "not loaded" is the usual answer
        if (spec.platform === "macos" && index === 0) continue;
        check(command, args, result);
    }
}

export interface UninstallWorkerServiceOptions {
    readonly spec: Pick<WorkerServiceSpec, "platform" | "name">;
    readonly paths: WorkerServicePaths;
    readonly uid: number;
    readonly runner: ServiceCommandRunner;
}

/** Stops and unloads the service (SIGTERM: the shard in hand is finished or handed back), then removes its file and the URL file. Returns whether a service file was there. */
export async function uninstallWorkerService(options: UninstallWorkerServiceOptions): Promise<boolean> {
    const {spec, paths} = options;
    const existed = await stat(paths.serviceFile).then(() => true, () => false);
    if (spec.platform === "macos") {
        // fails when it is not loaded, which is what we want anyway
        await options.runner("launchctl", ["bootout", `gui/${options.uid}/${spec.name}`]);
    } else {
        await options.runner("systemctl", ["--user", "disable", "--now", `${spec.name}.service`]);
    }
    await rm(paths.serviceFile, {force: true});
    await rm(paths.redisUrlFile, {force: true});
    if (spec.platform === "linux") check("systemctl", ["--user", "daemon-reload"], await options.runner("systemctl", ["--user", "daemon-reload"]));
    return existed;
}

/** What `orchard worker service-status` reports. */
export interface WorkerServiceStatus {
    readonly installed: boolean;
    /** "running", "stopped"/"inactive"/"failed"..., or "not loaded". */
    readonly state: string;
    readonly pid: number | undefined;
}

/** Asks the service manager about the service: `launchctl print` or `systemctl --user show`. */
export async function workerServiceStatus(options: UninstallWorkerServiceOptions): Promise<WorkerServiceStatus> {
    const {spec, paths} = options;
    const installed = await stat(paths.serviceFile).then(() => true, () => false);
    if (spec.platform === "macos") {
        const result = await options.runner("launchctl", ["print", `gui/${options.uid}/${spec.name}`]);
        return {installed, ...(result.exitCode === 0 ? parseLaunchctlPrint(result.stdout) : {state: "not loaded", pid: undefined})};
    }
    const result = await options.runner("systemctl", ["--user", "show", `${spec.name}.service`, "--property=LoadState,ActiveState,SubState,MainPID"]);
    check("systemctl", ["--user", "show"], result);
    return {installed, ...parseSystemctlShow(result.stdout)};
}

/** `launchctl print gui/<uid>/<label>`'s state and pid lines (`state = running`, `pid = 123`). */
export function parseLaunchctlPrint(text: string): {state: string; pid: number | undefined} {
    const state = /^\s*state = (.+)$/m.exec(text)?.[1]?.trim() ?? "unknown";
    const pid = /^\s*pid = (\d+)$/m.exec(text)?.[1];
    return {state, pid: pid === undefined ? undefined : Number(pid)};
}

/** `systemctl show --property=...`'s KEY=value lines: ActiveState (SubState), MainPID (0 when none). */
export function parseSystemctlShow(text: string): {state: string; pid: number | undefined} {
    const values = new Map(text.split("\n").map((line) => line.trim()).filter((line) => line.includes("="))
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const));
    if (values.get("LoadState") === "not-found") return {state: "not loaded", pid: undefined};
    const active = values.get("ActiveState") ?? "unknown";
    const sub = values.get("SubState");
    const pid = Number(values.get("MainPID") ?? "0");
    return {state: active === "active" && sub === "running" ? "running" : sub === undefined ? active : `${active} (${sub})`, pid: pid > 0 ? pid : undefined};
}

/** Runs commands with execFile: no shell, so no word in a path is ever interpreted. */
export const execServiceCommand: ServiceCommandRunner = (command, args) => new Promise((resolve, reject) => {
    execFile(command, [...args], {encoding: "utf8"}, (error, stdout, stderr) => {
        if (error !== null && typeof error.code === "string") {
            // ENOENT: no launchctl/systemctl on this machine
            reject(new OrchardError("INVALID_ARGUMENT", `cannot run ${command}: ${error.code === "ENOENT" ? "not found on this machine (is this the right --platform?)" : error.message}`, {cause: error}));
            return;
        }
        resolve({exitCode: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr});
    });
});

function check(command: string, args: readonly string[], result: ServiceCommandResult): void {
    if (result.exitCode !== 0)
        throw new OrchardError("SERVICE_MANAGER_FAILED", `${command} ${args.join(" ")} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
}

/** Writes a file only its owner can read, in a folder only its owner can enter, replacing any previous one whole. */
async function writePrivateFile(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), {recursive: true, mode: 0o700});
    await chmod(dirname(path), 0o700);
    await writeAtomically(path, text, 0o600);
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
    const temporary = `${path}.${process.pid}.tmp`;
    try {
        // mode at creation: the secret is never readable by others, not even for a moment
        await writeFile(temporary, text, {mode});
        await chmod(temporary, mode);
        await rename(temporary, path);
    } catch (error) {
        await rm(temporary, {force: true});
        throw error;
    }
}
