/** Where a worker service runs: a LaunchAgent (launchd) or a systemd user unit. */
export type ServicePlatform = "macos" | "linux";

export const SERVICE_PLATFORMS: readonly ServicePlatform[] = ["macos", "linux"];

/** Everything a worker service's file says: rendered the same way for launchd and systemd. */
export interface WorkerServiceSpec {
    readonly platform: ServicePlatform;
    /** launchd label / systemd unit name without `.service`. */
    readonly name: string;
    /** Absolute path of the node binary (launchd and systemd start with a minimal PATH). */
    readonly nodePath: string;
    /** Node flags the CLI's shebang gives (`--max-old-space-size=512`...). */
    readonly nodeFlags: readonly string[];
    /** Absolute path of bin/orchard.js. */
    readonly cliPath: string;
    /** `orchard worker`'s flags, after `worker` (never the Redis URL). */
    readonly workerArgs: readonly string[];
    /** The mode-600 file the worker reads its Redis URL from (`--redis-url-file`). */
    readonly redisUrlFile: string;
    readonly workingDirectory: string;
    /** Log file (macOS; systemd logs go to the journal). */
    readonly logFile: string;
    /** How long the service manager waits after SIGTERM before SIGKILL, in seconds. */
    readonly stopTimeoutSeconds: number;
}

/** Where a service's files go on this machine. */
export interface WorkerServicePaths {
    /** The plist or unit file. */
    readonly serviceFile: string;
    readonly redisUrlFile: string;
    readonly logFile: string;
}

/** Result of one command run by a ServiceCommandRunner. */
export interface ServiceCommandResult {
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs `launchctl` / `systemctl`: the only way the service code reaches the service manager, so
 * tests give a recording runner and assert the exact commands.
 */
export type ServiceCommandRunner = (command: string, args: readonly string[]) => Promise<ServiceCommandResult>;
