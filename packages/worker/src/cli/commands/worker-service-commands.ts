import type {GlobalCliOptions} from "@orchard/shared";
import type {Argv, CommandModule} from "yargs";
import {WORKER_FLAGS, withoutDefaults, withoutModel} from "./worker-flags.ts";

interface ServiceArgs extends GlobalCliOptions {
    platform?: "macos" | "linux";
    dryRun: boolean;
}

export interface InstallServiceArgs extends ServiceArgs {
    model?: string;
    modelCache?: string;
    redis?: string;
    redisUrlFile?: string;
    shutdownTimeoutMs?: number;
    shutdownGraceMs?: number;
    schedule?: string;
    whenIdle?: string;
    requireAc?: boolean;
    maxThermal?: number;
    minFreeMemory?: string;
    [flag: string]: unknown;
}

const PLATFORM_FLAG = {
    platform: {type: "string", choices: ["macos", "linux"], describe: "launchd LaunchAgent (macos) or systemd user unit (linux); default: this machine's"}
} as const;

export const installServiceCommand: CommandModule<GlobalCliOptions, InstallServiceArgs> = {
    command: "install-service",
    describe: "Run this worker as a service: a LaunchAgent on macOS, a systemd user unit on Linux, with the flags given here; written, then loaded",
    builder: (yargs: Argv<GlobalCliOptions>) => yargs
        .options(PLATFORM_FLAG)
        .option("dry-run", {type: "boolean", default: false, describe: "Print the plist/unit (stdout) and what would be written and run (stderr); change nothing"})
        .option("model", WORKER_FLAGS.model)
        .option("model-cache", WORKER_FLAGS["model-cache"])
        .option("redis", {type: "string", describe: "The fleet's Redis URL (default ORCHARD_REDIS_URL): written to a mode-600 file the worker reads, never into the plist/unit"})
        .option("redis-url-file", {type: "string", describe: "File holding the Redis URL (instead of --redis)"})
        // only the flags given here go into the service: its worker takes the defaults of the Orchard it runs
        .options(withoutDefaults(withoutModel(WORKER_FLAGS)))
        .example("ORCHARD_REDIS_URL=redis://:secret@coordinator.local:6379 $0 worker install-service --model ~/models/mixtral.gguf", "")
        .example("$0 worker install-service --model-cache ~/orchard-models --when-idle 10m", "every other Mac of a fleet: the model comes from the coordinator")
        .example("$0 worker install-service --platform linux --dry-run --model m.gguf --redis redis://host:6379", "print the unit") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const {installServiceFromArgs} = await import("../../service/service-cli.ts");
        await installServiceFromArgs(args);
    }
};

export const uninstallServiceCommand: CommandModule<GlobalCliOptions, ServiceArgs> = {
    command: "uninstall-service",
    describe: "Stop the worker service (its shard is finished or handed back) and remove it and its Redis URL file",
    builder: (yargs: Argv<GlobalCliOptions>) => yargs
        .options(PLATFORM_FLAG)
        .option("dry-run", {type: "boolean", default: false, describe: "Print what would be removed and run; change nothing"}) as never,
    handler: async (args) => {
        const {uninstallServiceFromArgs} = await import("../../service/service-cli.ts");
        await uninstallServiceFromArgs(args);
    }
};

export const serviceStatusCommand: CommandModule<GlobalCliOptions, Omit<ServiceArgs, "dryRun">> = {
    command: "service-status",
    describe: "Whether the worker service is installed and running (pid), and where its files and logs are",
    builder: (yargs: Argv<GlobalCliOptions>) => yargs.options(PLATFORM_FLAG) as never,
    handler: async (args) => {
        const {serviceStatusFromArgs} = await import("../../service/service-cli.ts");
        await serviceStatusFromArgs(args);
    }
};
