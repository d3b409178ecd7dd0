import type {WorkerServiceSpec} from "./types.ts";

/**
 * The command line a worker service runs, the one code path behind both the plist and the unit:
 * node by absolute path with the CLI's node flags, the CLI by absolute path, `worker`, its flags,
 * and `--redis-url-file` (the URL, with its password, stays in that file).
 */
export function workerServiceProgram(spec: WorkerServiceSpec): string[] {
    return [spec.nodePath, ...spec.nodeFlags, spec.cliPath, "worker", ...spec.workerArgs, "--redis-url-file", spec.redisUrlFile, "--log-format", "json"];
}

/**
 * The node flags of a CLI file's shebang (`#!/usr/bin/env -S node --flag ...`): a service starts
 * `node <cli>` directly, so it passes them itself to get the process `orchard` gets.
 */
export function nodeFlagsFromShebang(firstLine: string): string[] {
    const match = /^#!\S*env -S node(?<flags>(?:\s+\S+)*)\s*$/.exec(firstLine);
    return (match?.groups?.["flags"] ?? "").split(/\s+/).filter((word) => word !== "");
}
