import {readFileSync, realpathSync, statSync} from "node:fs";
import {homedir} from "node:os";
import {dirname, resolve} from "node:path";
import {checkRedisUrl, DEFAULT_WORKER_SHUTDOWN_GRACE_MS, DEFAULT_WORKER_SHUTDOWN_MS, OrchardError, readOrchardEnvironment, readRedisUrlFile, redactRedisUrl} from "@orchard/shared";
import type {InstallServiceArgs} from "../cli/commands/worker-service-commands.ts";
import {workerFlagWords, WORKER_FLAGS, withoutModel} from "../cli/commands/worker-flags.ts";
import {resolveSparePolicy} from "../policy/spare-policy.ts";
import type {ServicePlatform, WorkerServiceSpec} from "./types.ts";
import {nodeFlagsFromShebang} from "./worker-service-program.ts";
import {
    defaultServiceName, execServiceCommand, installCommands, installWorkerService, renderWorkerService, uninstallWorkerService, workerServicePaths,
    workerServiceStatus
} from "./worker-service.ts";

/** launchd waits at least this long after SIGTERM (today's example plist: 120 s). */
const MIN_STOP_TIMEOUT_S = 120;
/** Beyond --shutdown-timeout-ms and --shutdown-grace-ms: the worker's bounded close steps (unload the model, quit Redis). */
const STOP_MARGIN_S = 30;

/** The glue of `orchard worker install-service`: flags -> spec -> files and commands (or, with --dry-run, their text). */
export async function installServiceFromArgs(args: InstallServiceArgs): Promise<void> {
    const platform = platformFor(args.platform, args.dryRun);
    const redisUrl = redisUrlFor(args);
    // a policy the worker would refuse fails here, not in a service that restarts every 30 s
    resolveSparePolicy(args);
    if ((args.model === undefined) === (args.modelCache === undefined))
        throw new OrchardError("INVALID_ARGUMENT", "give the worker's model with --model FILE, or --model-cache DIR to get it from the fleet (one of them)");
    // absolute: the service runs in another working directory
    const modelWords = args.model === undefined ? ["--model-cache", resolve(args.modelCache as string)] : ["--model", resolve(args.model)];
    if (args.model !== undefined && !isFile(resolve(args.model))) throw new OrchardError("MODEL_NOT_FOUND", `--model ${args.model}: no such file`);
    const cliPath = realpathSync(process.argv[1] ?? "");
    const name = defaultServiceName(platform);
    const paths = workerServicePaths(platform, name, homedir());
    const spec: WorkerServiceSpec = {
        platform, name,
        nodePath: process.execPath,
        nodeFlags: nodeFlagsFromShebang(readFileSync(cliPath, "utf8").split("\n", 1)[0] ?? ""),
        cliPath,
        workerArgs: [...modelWords, ...workerFlagWords(args, withoutModel(WORKER_FLAGS))],
        redisUrlFile: paths.redisUrlFile,
        // bin/orchard.js's package: where the worker's relative defaults (--state-dir) point
        workingDirectory: dirname(dirname(cliPath)),
        logFile: paths.logFile,
        stopTimeoutSeconds: Math.max(MIN_STOP_TIMEOUT_S, Math.ceil(((args.shutdownTimeoutMs ?? DEFAULT_WORKER_SHUTDOWN_MS) + (args.shutdownGraceMs ?? DEFAULT_WORKER_SHUTDOWN_GRACE_MS)) / 1000) + STOP_MARGIN_S)
    };
    const uid = process.getuid?.() ?? 0;
    if (args.dryRun) {
        // the file alone on stdout (`> worker.plist` keeps it); what would happen on stderr
        process.stdout.write(renderWorkerService(spec));
        process.stderr.write(`would write ${paths.serviceFile}\n` +
            `would write ${paths.redisUrlFile} (mode 600): ${redactRedisUrl(redisUrl)}\n` +
            installCommands(spec, paths, uid).map(([command, words]) => `would run: ${command} ${words.join(" ")}\n`).join(""));
        return;
    }
    await installWorkerService({spec, paths, redisUrl, uid, runner: execServiceCommand});
    process.stdout.write(`Installed and started ${name}: ${paths.serviceFile}\n` +
        `Redis URL: ${paths.redisUrlFile} (mode 600)\nLogs: ${paths.logFile}\nStatus: orchard worker service-status\n` +
        (platform === "linux" ? "To keep it running after you log out: loginctl enable-linger $USER\n" : ""));
}

export async function uninstallServiceFromArgs(args: {platform?: ServicePlatform; dryRun: boolean}): Promise<void> {
    const platform = platformFor(args.platform, args.dryRun);
    const name = defaultServiceName(platform);
    const paths = workerServicePaths(platform, name, homedir());
    const uid = process.getuid?.() ?? 0;
    if (args.dryRun) {
        const commands = platform === "macos" ? [`launchctl bootout gui/${uid}/${name}`] : [`systemctl --user disable --now ${name}.service`, "systemctl --user daemon-reload"];
        process.stderr.write(`${commands.map((command) => `would run: ${command}\n`).join("")}would remove ${paths.serviceFile}\nwould remove ${paths.redisUrlFile}\n`);
        return;
    }
    const existed = await uninstallWorkerService({spec: {platform, name}, paths, uid, runner: execServiceCommand});
    process.stdout.write(existed ? `Removed ${name} (${paths.serviceFile})\n` : `No ${name} was installed (${paths.serviceFile})\n`);
}

export async function serviceStatusFromArgs(args: {platform?: ServicePlatform}): Promise<void> {
    const platform = platformFor(args.platform, false);
    const name = defaultServiceName(platform);
    const paths = workerServicePaths(platform, name, homedir());
    const status = await workerServiceStatus({spec: {platform, name}, paths, uid: process.getuid?.() ?? 0, runner: execServiceCommand});
    process.stdout.write(`${name}: ${status.installed ? "installed" : "not installed"}, ${status.state}${status.pid === undefined ? "" : ` (pid ${status.pid})`}\n` +
        `File: ${paths.serviceFile}\nLogs: ${paths.logFile}\n`);
}

function platformFor(requested: ServicePlatform | undefined, dryRun: boolean): ServicePlatform {
    const here = process.platform === "darwin" ? "macos" : process.platform === "linux" ? "linux" : undefined;
    const platform = requested ?? here;
    if (platform === undefined)
        throw new OrchardError("INVALID_ARGUMENT", `worker services exist for macOS (launchd) and Linux (systemd), not ${process.platform}; --platform with --dry-run prints one`);
    if (platform !== here && !dryRun)
        throw new OrchardError("INVALID_ARGUMENT", `--platform ${platform}: this machine runs ${here ?? process.platform}; add --dry-run to print the ${platform} service without installing it`);
    return platform;
}

function redisUrlFor(args: InstallServiceArgs): string {
    if (args.redis !== undefined && args.redisUrlFile !== undefined)
        throw new OrchardError("INVALID_ARGUMENT", "give the Redis URL with --redis or --redis-url-file, not both");
    if (args.redisUrlFile !== undefined) return readRedisUrlFile(args.redisUrlFile);
    const url = args.redis ?? readOrchardEnvironment().redisUrl;
    if (url === undefined)
        throw new OrchardError("INVALID_ARGUMENT", "a worker service needs the fleet's Redis URL: set ORCHARD_REDIS_URL, or pass --redis or --redis-url-file (the URL `orchard run` prints)");
    checkRedisUrl(url, args.redis === undefined ? "ORCHARD_REDIS_URL" : "--redis");
    return url;
}

function isFile(path: string): boolean {
    try {
        return statSync(path).isFile();
    } catch {
        return false;
    }
}
