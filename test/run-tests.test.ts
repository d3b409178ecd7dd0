import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {mkdtemp, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {repoRoot} from "./support/orchard-cli.ts";

/** scripts/run-tests.js (what `npm test` runs) on the files matching `filter`, outside CI, with its own temp dir. */
async function runTests(filter: string, env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; tmpEntries: string[]}> {
    const tmp = await mkdtemp(join(tmpdir(), "orchard-run-tests-"));
    try {
        const childEnv: NodeJS.ProcessEnv = {...process.env, ...env, TMPDIR: tmp};
        // outside CI; and a runner of its own, not a child of this one (node:test marks its children)
        delete childEnv["CI"];
        delete childEnv["NODE_TEST_CONTEXT"];
        const {code, stdout} = await new Promise<{code: number | null; stdout: string}>((resolve, reject) => {
            const child = spawn(process.execPath, [join(repoRoot, "scripts", "run-tests.js"), filter], {cwd: repoRoot, env: childEnv, stdio: ["ignore", "pipe", "inherit"]});
            let out = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
            child.on("error", reject);
            child.on("close", (exitCode) => resolve({code: exitCode, stdout: out}));
        });
        return {code, stdout, tmpEntries: await readdir(tmp)};
    } finally {
        await rm(tmp, {recursive: true, force: true});
    }
}

describe("npm test's runner", () => {
    it("names a test skipped for lack of Chromium, and how to install it, on its last line", {timeout: 120_000}, async () => {
        const {code, stdout, tmpEntries} = await runTests("test/dashboard-browser", {ORCHARD_TEST_CHROMIUM: join(tmpdir(), "no-such-chromium")});
        assert.equal(code, 0, stdout.slice(-2000));
        const last = stdout.trimEnd().split("\n").at(-1) ?? "";
        assert.match(last, /^SKIPPED test\/dashboard-browser\.test\.ts.*no-such-chromium.*apt-get install chromium.*brew install --cask chromium/, last);
        assert.deepEqual(tmpEntries.filter((name) => !name.startsWith("tsx-")), [], "the runner removes its temporary folder (tsx keeps its compile cache)");
    });

    it("adds nothing when no test skipped", {timeout: 120_000}, async () => {
        const {code, stdout} = await runTests("token-attempt-limiter", {});
        assert.equal(code, 0, stdout.slice(-2000));
        assert.doesNotMatch(stdout, /^(SKIPPED|LEFT BEHIND) /m);
    });
});
