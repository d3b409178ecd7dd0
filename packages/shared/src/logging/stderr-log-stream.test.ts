import assert from "node:assert/strict";
import {spawn, spawnSync} from "node:child_process";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";

// A real closed terminal: the child runs on a pseudo-terminal of util-linux `script`, which is
// killed; the child gets SIGHUP and every later write to its terminal fails with EIO. Logging then
// must not throw (a coordinator logs as it stops its workers and its embedded Redis).
const SCRIPT = spawnSync("script", ["--version"]).status === 0 && process.platform === "linux" ? "script" : undefined;

function childSource(doneFile: string, pretty: boolean): string {
    return `
import {writeFileSync} from "node:fs";
import {createLogger} from ${JSON.stringify(new URL("./create-logger.ts", import.meta.url).href)};
const logger = createLogger({pretty: ${pretty}, name: "child"}).child({component: "test"});
process.on("SIGHUP", () => setTimeout(() => {
    for (let i = 0; i < 100; i++) logger.warn({i}, "after the hang-up");
    writeFileSync(${JSON.stringify(doneFile)}, "logged\\n");
    process.exit(0);
}, 100));
logger.info("ready");
setInterval(() => undefined, 1000);
`;
}

async function logAfterHangUp(pretty: boolean): Promise<string | undefined> {
    const dir = await mkdtemp(join(tmpdir(), "orchard-hangup-"));
    try {
        const source = join(dir, "child.mts");
        const done = join(dir, "done");
        await writeFile(source, childSource(done, pretty));
        const command = [process.execPath, "--import", "tsx", source].map((part) => `'${part}'`).join(" ");
        const terminal = spawn(SCRIPT as string, ["-qfec", command, "/dev/null"], {stdio: ["pipe", "pipe", "ignore"]});
        await new Promise<void>((resolve, reject) => {
            let output = "";
            terminal.stdout.setEncoding("utf8").on("data", (chunk: string) => {
                output += chunk;
                if (output.includes("ready")) resolve();
            });
            terminal.once("exit", () => reject(new Error(`the child ended before logging: ${output}`)));
        });
        // the terminal goes away: the kernel hangs up the child's session
        terminal.kill("SIGKILL");
        for (let waited = 0; waited < 300; waited++) {
            const text = await readFile(done, "utf8").catch(() => undefined);
            if (text !== undefined) return text;
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return undefined;
    } finally {
        await rm(dir, {recursive: true, force: true});
    }
}

describe("createLogger on a terminal that closes", {skip: SCRIPT === undefined ? "needs util-linux `script` (Linux) for a pseudo-terminal" : false}, () => {
    for (const pretty of [false, true])
        it(`logging after the hang-up does not crash the process (${pretty ? "pretty" : "JSON"} lines)`, async () => {
            assert.equal(await logAfterHangUp(pretty), "logged\n");
        });
});
