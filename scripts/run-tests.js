#!/usr/bin/env node
// Runs every test file with node's test runner through tsx: unit tests beside the code
// (packages/*/src/**/*.test.ts) and cross-package tests (test/**/*.test.ts). Node 20's --test
// takes no globs, so the files are listed here. Extra arguments narrow the run to paths
// containing any of them: `npm test -- extract`.
import {spawnSync} from "node:child_process";
import {readdirSync, statSync} from "node:fs";
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
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], {cwd: root, stdio: "inherit"});
process.exit(result.status ?? 1);
