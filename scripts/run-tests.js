#!/usr/bin/env node
// Runs every test file with node's test runner through tsx: unit tests beside the code
// (packages/*/src/**/*.test.ts) and cross-package tests (test/**/*.test.ts). Node 20's --test
// takes no globs, so the files are listed here. Extra arguments narrow the run to paths
// containing any of them: `npm test -- extract`.
//
// The tests run with TMPDIR set to a folder of this run: whatever a test leaves in its temporary
// folder is named at the end (tests must clean up after themselves) and then removed. A test that
// skips for lack of something on this machine records it (test/support/test-skips.ts) and is named
// on the last lines with the command that enables it: a skipped suite is easy to miss in the output.
import {spawnSync} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync} from "node:fs";
import {tmpdir, userInfo} from "node:os";
import {join, relative} from "node:path";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
    const found = [];
    for (const entry of readdirSync(dir)) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) found.push(...findTests(path));
        else if (entry.endsWith(".test.ts")) found.push(relative(root, path));
    }
    return found;
}

const files = [...findTests(join(root, "packages")), ...findTests(join(root, "test"))]
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();
if (files.length === 0) {
    console.error(`no test files match ${filters.join(", ")}`);
    process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), "orchard-test-run-"));
let status = 1;
try {
    const testTmp = join(scratch, "tmp");
    mkdirSync(testTmp);
    // tsx keeps its compile cache in $TMPDIR/tsx-<uid>: the usual one, so every run does not start cold
    const tsxCache = `tsx-${process.getuid?.() ?? userInfo().username}`;
    mkdirSync(join(tmpdir(), tsxCache), {recursive: true});
    symlinkSync(join(tmpdir(), tsxCache), join(testTmp, tsxCache), "dir");
    const skipReport = join(scratch, "skips.jsonl");
    // two files at a time: most of a fleet test's time is waiting (lock expiry, stall checks,
    // simulated engines), so a 2-core CI box runs two in about 60% of the time of one after another
    // (node's default on 2 cores is one at a time); ORCHARD_TEST_CONCURRENCY=1 runs them in turn
    const concurrency = Number.parseInt(process.env.ORCHARD_TEST_CONCURRENCY ?? "2", 10);
    const result = spawnSync(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${concurrency > 0 ? concurrency : 2}`, "--test-reporter=spec", ...files], {
        cwd: root, stdio: "inherit", env: {...process.env, TMPDIR: testTmp, ORCHARD_TEST_SKIP_REPORT: skipReport}
    });
    status = result.status ?? 1;
    const leftovers = readdirSync(testTmp).filter((name) => !name.startsWith("tsx-")).sort();
    const skips = existsSync(skipReport) ? readFileSync(skipReport, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line)) : [];
    if (leftovers.length > 0 || skips.length > 0) console.log("");
    if (leftovers.length > 0) console.log(`LEFT BEHIND in the temp dir by the tests (removed now; a test must remove what it creates): ${leftovers.join(", ")}`);
    for (const skip of skips) console.log(`SKIPPED ${skip.test}: ${skip.reason}. To run it: ${skip.enable}`);
} finally {
    rmSync(scratch, {recursive: true, force: true});
}
process.exit(status);
