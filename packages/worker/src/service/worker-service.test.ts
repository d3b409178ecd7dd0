import assert from "node:assert/strict";
import {mkdtemp, readFile, rm, stat, writeFile, mkdir} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {parse} from "plist";
import type {ServiceCommandResult, ServicePlatform, WorkerServiceSpec} from "./types.ts";
import {nodeFlagsFromShebang, workerServiceProgram} from "./worker-service-program.ts";
import {
    installWorkerService, parseLaunchctlPrint, parseSystemctlShow, renderWorkerService, uninstallWorkerService, workerServicePaths, workerServiceStatus
} from "./worker-service.ts";

const URL_WITH_PASSWORD = "redis://:pa55word-not-in-files@coordinator.local:6379";

function specFor(platform: ServicePlatform, home: string, name = platform === "macos" ? "com.orchard.worker" : "orchard-worker"): WorkerServiceSpec {
    const paths = workerServicePaths(platform, name, home);
    return {
        platform, name,
        nodePath: "/opt/node 20/bin/node",
        nodeFlags: ["--max-old-space-size=512"],
        cliPath: "/Users/me/orchard/bin/orchard.js",
        workerArgs: ["--model", "/Users/me/models/100% mixtral \"q4\".gguf", "--contexts", "2"],
        redisUrlFile: paths.redisUrlFile,
        workingDirectory: "/Users/me/orchard",
        logFile: paths.logFile,
        stopTimeoutSeconds: 120
    };
}

/** A runner that records every command and answers from a table (exit 0, no output by default). */
function recordingRunner(answers: Record<string, Partial<ServiceCommandResult>> = {}) {
    const calls: string[][] = [];
    const runner = async (command: string, args: readonly string[]): Promise<ServiceCommandResult> => {
        calls.push([command, ...args]);
        return {exitCode: 0, stdout: "", stderr: "", ...answers[[command, ...args].join(" ")]};
    };
    return {calls, runner};
}

/** Splits a systemd ExecStart= value into its words (double-quoted, backslash escapes, %% and $$). */
function execStartWords(unit: string): string[] {
    const line = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
    return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => (match[1] ?? "").replace(/\\(.)/g, "$1").replace(/%%/g, "%").replace(/\$\$/g, "$"));
}

async function withHome<T>(body: (home: string) => Promise<T>): Promise<T> {
    const home = await mkdtemp(join(tmpdir(), "orchard-service-"));
    try {
        return await body(home);
    } finally {
        await rm(home, {recursive: true, force: true});
    }
}

describe("worker service files: one command line for launchd and systemd", () => {
    it("the plist parses with a plist parser and runs node, its flags, the CLI and the worker's flags, with the URL file instead of the URL", () => {
        const spec = specFor("macos", "/Users/me");
        const plist = parse(renderWorkerService(spec)) as Record<string, unknown>;
        assert.deepEqual(plist["ProgramArguments"], workerServiceProgram(spec));
        assert.deepEqual(workerServiceProgram(spec), [
            "/opt/node 20/bin/node", "--max-old-space-size=512", "/Users/me/orchard/bin/orchard.js", "worker",
            "--model", "/Users/me/models/100% mixtral \"q4\".gguf", "--contexts", "2",
            "--redis-url-file", "/Users/me/Library/Application Support/Orchard/com.orchard.worker.redis-url", "--log-format", "json"
        ]);
        assert.equal(plist["Label"], "com.orchard.worker");
        assert.equal(plist["KeepAlive"], true);
        assert.equal(plist["ExitTimeOut"], 120);
        assert.equal(plist["StandardErrorPath"], "/Users/me/Library/Logs/orchard/com.orchard.worker.log");
    });

    it("the unit's ExecStart is the same command line, quoted for systemd (spaces, quotes, % and $ survive)", () => {
        const spec = specFor("linux", "/home/me");
        const unit = renderWorkerService({...spec, workerArgs: [...spec.workerArgs, "--name", "cost $5"]});
        assert.deepEqual(execStartWords(unit), workerServiceProgram({...spec, workerArgs: [...spec.workerArgs, "--name", "cost $5"]}));
        assert.match(unit, /^TimeoutStopSec=120$/m);
        assert.match(unit, /^WantedBy=default.target$/m);
    });

    it("reads the node flags of the CLI's shebang", () => {
        assert.deepEqual(nodeFlagsFromShebang("#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=512"), ["--max-semi-space-size=2", "--max-old-space-size=512"]);
        assert.deepEqual(nodeFlagsFromShebang("#!/usr/bin/env node"), []);
    });
});

describe("install-service / uninstall-service / service-status: files written and the exact service manager commands", () => {
    it("macOS: the URL in a mode-600 file (folder 700), the plist, the log folder; then launchctl bootout and bootstrap gui/<uid>", () => withHome(async (home) => {
        const spec = specFor("macos", home);
        const paths = workerServicePaths("macos", spec.name, home);
        // a previous install is not loaded: bootout fails, which install ignores
        const {calls, runner} = recordingRunner({[`launchctl bootout gui/501/${spec.name}`]: {exitCode: 3, stderr: "Boot-out failed: 3: No such process"}});
        await installWorkerService({spec, paths, redisUrl: URL_WITH_PASSWORD, uid: 501, runner});
        assert.deepEqual(calls, [["launchctl", "bootout", "gui/501/com.orchard.worker"], ["launchctl", "bootstrap", "gui/501", paths.serviceFile]]);
        assert.equal(await readFile(paths.redisUrlFile, "utf8"), `${URL_WITH_PASSWORD}\n`);
        assert.equal((await stat(paths.redisUrlFile)).mode & 0o777, 0o600);
        assert.equal((await stat(join(paths.redisUrlFile, ".."))).mode & 0o777, 0o700);
        const written = await readFile(paths.serviceFile, "utf8");
        assert.equal(written, renderWorkerService(spec));
        assert.doesNotMatch(written, /pa55word/);
        assert.ok((await stat(join(paths.logFile, ".."))).isDirectory());

        const status = recordingRunner({[`launchctl print gui/501/${spec.name}`]: {stdout: LAUNCHCTL_PRINT_RUNNING}});
        assert.deepEqual(await workerServiceStatus({spec, paths, uid: 501, runner: status.runner}), {installed: true, state: "running", pid: 4242});

        const removal = recordingRunner();
        assert.equal(await uninstallWorkerService({spec, paths, uid: 501, runner: removal.runner}), true);
        assert.deepEqual(removal.calls, [["launchctl", "bootout", "gui/501/com.orchard.worker"]]);
        await assert.rejects(stat(paths.serviceFile), {code: "ENOENT"});
        await assert.rejects(stat(paths.redisUrlFile), {code: "ENOENT"});
    }));

    it("Linux: the unit under ~/.config/systemd/user; daemon-reload, enable --now, restart; a refusal is SERVICE_MANAGER_FAILED", () => withHome(async (home) => {
        const spec = specFor("linux", home);
        const paths = workerServicePaths("linux", spec.name, home);
        assert.equal(paths.serviceFile, join(home, ".config", "systemd", "user", "orchard-worker.service"));
        const {calls, runner} = recordingRunner();
        await installWorkerService({spec, paths, redisUrl: URL_WITH_PASSWORD, uid: 1000, runner});
        assert.deepEqual(calls, [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", "orchard-worker.service"],
            ["systemctl", "--user", "restart", "orchard-worker.service"]
        ]);
        assert.equal((await stat(paths.redisUrlFile)).mode & 0o777, 0o600);
        assert.doesNotMatch(await readFile(paths.serviceFile, "utf8"), /pa55word/);

        const refusing = recordingRunner({"systemctl --user daemon-reload": {exitCode: 1, stderr: "Failed to connect to bus: No medium found"}});
        await assert.rejects(installWorkerService({spec, paths, redisUrl: URL_WITH_PASSWORD, uid: 1000, runner: refusing.runner}),
            (error: unknown) => (error as {code?: string}).code === "SERVICE_MANAGER_FAILED" && /No medium found/.test((error as Error).message));

        const status = recordingRunner({[`systemctl --user show orchard-worker.service --property=LoadState,ActiveState,SubState,MainPID`]: {stdout: "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=777\n"}});
        assert.deepEqual(await workerServiceStatus({spec, paths, uid: 1000, runner: status.runner}), {installed: true, state: "running", pid: 777});

        const removal = recordingRunner();
        assert.equal(await uninstallWorkerService({spec, paths, uid: 1000, runner: removal.runner}), true);
        assert.deepEqual(removal.calls, [["systemctl", "--user", "disable", "--now", "orchard-worker.service"], ["systemctl", "--user", "daemon-reload"]]);
        await assert.rejects(stat(paths.serviceFile), {code: "ENOENT"});
    }));

    it("a URL file left with loose permissions by hand is replaced by one of mode 600", () => withHome(async (home) => {
        const spec = specFor("linux", home);
        const paths = workerServicePaths("linux", spec.name, home);
        await mkdir(join(paths.redisUrlFile, ".."), {recursive: true, mode: 0o755});
        await writeFile(paths.redisUrlFile, "redis://old\n", {mode: 0o644});
        await installWorkerService({spec, paths, redisUrl: URL_WITH_PASSWORD, uid: 1000, runner: recordingRunner().runner});
        assert.equal((await stat(paths.redisUrlFile)).mode & 0o777, 0o600);
        assert.equal((await stat(join(paths.redisUrlFile, ".."))).mode & 0o777, 0o700);
    }));

    it("parses launchctl print and systemctl show as recorded", () => {
        assert.deepEqual(parseLaunchctlPrint(LAUNCHCTL_PRINT_RUNNING), {state: "running", pid: 4242});
        assert.deepEqual(parseLaunchctlPrint(LAUNCHCTL_PRINT_WAITING), {state: "not running", pid: undefined});
        assert.deepEqual(parseSystemctlShow("LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n"), {state: "not loaded", pid: undefined});
        assert.deepEqual(parseSystemctlShow("LoadState=loaded\nActiveState=activating\nSubState=auto-restart\nMainPID=0\n"), {state: "activating (auto-restart)", pid: undefined});
    });
});

// recorded from `launchctl print gui/501/com.orchard.worker` on macOS 14 (abridged: the lines after `pid` are many)
const LAUNCHCTL_PRINT_RUNNING = `gui/501/com.orchard.worker = {
	active count = 1
	path = /Users/me/Library/LaunchAgents/com.orchard.worker.plist
	type = LaunchAgent
	state = running

	program = /opt/homebrew/bin/node
	arguments = {
		/opt/homebrew/bin/node
		/Users/me/orchard/bin/orchard.js
		worker
	}

	stdout path = /Users/me/Library/Logs/orchard/com.orchard.worker.log
	domain = gui/501 [100005]
	runs = 1
	pid = 4242
	immediate reason = speculative
	last exit code = (never exited)
}
`;
const LAUNCHCTL_PRINT_WAITING = `gui/501/com.orchard.worker = {
	active count = 0
	path = /Users/me/Library/LaunchAgents/com.orchard.worker.plist
	type = LaunchAgent
	state = not running

	runs = 3
	last exit code = 1
}
`;
