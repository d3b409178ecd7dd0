import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync} from "node:fs";
import {mkdtemp, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, it} from "node:test";
import {repoRoot} from "./support/orchard-cli.ts";

describe("test/support's tempDir", () => {
    for (const ending of ["returns", "throws"] as const) {
        it(`removes the folders it made, and what is in them, when the test process exits (the test ${ending})`, async () => {
            const tmp = await mkdtemp(join(tmpdir(), "orchard-temp-dirs-"));
            try {
                const script = `import {writeFile} from "node:fs/promises";
                    import {tempDir} from "./test/support/orchard-cli.ts";
                    const dirs = [await tempDir(), await tempDir("orchard-other-")];
                    await writeFile(dirs[0] + "/file.jsonl", "{}\\n");
                    console.log(JSON.stringify(dirs));
                    ${ending === "throws" ? `throw new Error("a failing test");` : ""}`;
                const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {cwd: repoRoot, env: {...process.env, TMPDIR: tmp}, encoding: "utf8"});
                assert.equal(child.status, ending === "throws" ? 1 : 0, child.stderr);
                const dirs = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "[]") as string[];
                assert.equal(dirs.length, 2);
                for (const dir of dirs) assert.ok(dir.startsWith(tmp) && !existsSync(dir), dir);
                assert.deepEqual((await readdir(tmp)).filter((name) => !name.startsWith("tsx-")), []);
            } finally {
                await rm(tmp, {recursive: true, force: true});
            }
        });
    }
});
