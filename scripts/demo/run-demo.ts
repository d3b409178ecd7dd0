import {spawnSync} from "node:child_process";
import {availableParallelism} from "node:os";
import {join} from "node:path";
import {pathForDisplay} from "@orchard/shared";
import {ensureSyntheticModel} from "@orchard/worker";
import {ORCHARD_BIN, ORCHARD_NODE_FLAGS} from "../orchard-node-flags.ts";
import {demoReport} from "./demo-report.ts";
import {findExecutable} from "./find-executable.ts";
import {commandLine, redisInstallPlan, type InstallPlan} from "./redis-install-plan.ts";

export interface DemoOptions {
    /** The repository root (models/ and the sample live there). */
    readonly repoRoot: string;
    /** Where out/ and .orchard/ go: the directory `npm run demo` runs in. */
    readonly cwd: string;
    /** The environment of the demo and its children; its PATH is where redis-server, brew, apt-get and sudo are looked for. */
    readonly env: NodeJS.ProcessEnv;
    readonly platform: NodeJS.Platform;
    /** Whether the demo runs as root (apt-get without sudo). */
    readonly isRoot: boolean;
    /** Extra `orchard run` flags (`npm run demo -- --dashboard`). */
    readonly runArgs: readonly string[];
    /** Where the demo says what it does (stderr, beside the logs). */
    readonly note: (text: string) => void;
    /** Where its report of what it left behind goes (stdout). */
    readonly print: (text: string) => void;
}

const LOCAL_WORKERS = 2;

/**
 * `npm run demo`: the bundled sample through a whole fleet on this machine (`orchard run` with its
 * embedded Redis and two local workers). A machine without redis-server gets it installed first
 * (Homebrew, apt-get), each command shown before it runs; where that cannot be done, the same sample
 * goes through `orchard extract` (one process, no Redis: the same output file, byte for byte).
 * Then it shows what it wrote and what to do next. Returns the exit code.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
    const {note} = options;
    const shown = (path: string) => pathForDisplay(path, options.cwd);
    const model = await ensureSyntheticModel({preset: "tiny", type: "f32", seed: 1, dir: join(options.repoRoot, "models")});
    const input = join(options.repoRoot, "scripts", "sample-data", "sentiment.jsonl");
    const output = join("out", "sentiment.jsonl.attributes.jsonl");
    const path = options.env["PATH"] ?? "";

    let redisInstall: string | undefined;
    if (findExecutable("redis-server", path) === undefined) {
        note("demo: redis-server is not installed, and the fleet needs it (Redis holds the run's queue).\n");
        const plan = redisInstallPlan({
            platform: options.platform, root: options.isRoot, has: (tool) => findExecutable(tool, path) !== undefined,
            passwordlessSudo: () => spawnSync("sudo", ["-n", "true"], {env: options.env, stdio: "ignore"}).status === 0
        });
        redisInstall = installHint(plan);
        if (!install(plan, options) || findExecutable("redis-server", path) === undefined) {
            note(`demo: without Redis, the sample runs through \`orchard extract\` instead (one process, the same output).\n` +
                `demo: for the fleet, install Redis (${redisInstall}) and run npm run demo again.\n`);
            if (options.runArgs.length > 0) note(`demo: ignoring the orchard run flags ${commandLine(options.runArgs)}\n`);
            const status = orchard(options, [
                "extract", "--model", shown(model), "--input", shown(input), "--output", output, "--overwrite"
            ]);
            if (status !== 0) return status;
            options.print(demoReport({outputFile: join(options.cwd, output), output, model: shown(model), input: shown(input), mode: "extract", redisInstall}));
            return 0;
        }
        note("demo: redis-server is installed.\n");
    }
    const status = orchard(options, [
        "run", "--model", shown(model), "--input", shown(input), "--output-dir", "out", "--local-workers", String(LOCAL_WORKERS),
        // the workers share this machine's cores: more llama.cpp threads than cores slows everything down
        "--threads", String(Math.max(1, Math.floor(availableParallelism() / LOCAL_WORKERS))),
        "--state-dir", ".orchard", "--overwrite", ...options.runArgs
    ]);
    if (status !== 0) return status;
    options.print(demoReport({outputFile: join(options.cwd, output), output, model: shown(model), input: shown(input), mode: "fleet"}));
    return 0;
}

/** Runs the plan's commands, each shown first; false when there is nothing to run or one fails. */
function install(plan: InstallPlan, options: DemoOptions): boolean {
    if (plan.kind === "manual") {
        options.note(`demo: cannot install it here: ${plan.reason}. To install it yourself: ${plan.command}\n`);
        return false;
    }
    for (const command of plan.commands) {
        options.note(`demo: installing Redis: ${commandLine(command)}\n`);
        const [executable, ...args] = command as [string, ...string[]];
        const result = spawnSync(executable, args, {cwd: options.cwd, env: options.env, stdio: "inherit"});
        if (result.status !== 0) {
            options.note(`demo: \`${commandLine(command)}\` failed (${result.error?.message ?? `exit code ${result.status ?? result.signal}`}).\n`);
            return false;
        }
    }
    return true;
}

function installHint(plan: InstallPlan): string {
    return plan.kind === "manual" ? plan.command : plan.commands.map(commandLine).join(" && ");
}

/** `orchard ...args` in the demo's folder, shown first; its exit code. */
function orchard(options: DemoOptions, args: readonly string[]): number {
    options.note(`demo: orchard ${commandLine(args)}\n`);
    const result = spawnSync(process.execPath, [...ORCHARD_NODE_FLAGS, ORCHARD_BIN, ...args], {cwd: options.cwd, env: options.env, stdio: "inherit"});
    return result.status ?? 1;
}
