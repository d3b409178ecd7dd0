import assert from "node:assert/strict";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Writable} from "node:stream";
import {describe, it} from "node:test";
import {createLogger} from "../logging/create-logger.ts";
import {OrchardError} from "../errors/orchard-error.ts";
import {resolveWebToken} from "./web-token.ts";

const TOKEN = "0123456789abcdef0123";

/** A JSON logger whose records the test reads back. */
function recordingLogger() {
    const records: Record<string, unknown>[] = [];
    const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") records.push(JSON.parse(line) as Record<string, unknown>);
            done();
        }
    });
    return {logger: createLogger({pretty: false, destination}), records};
}

const sources = {flag: "--token", value: undefined, fileFlag: "--token-file", file: undefined, environment: undefined};

describe("resolveWebToken", () => {
    it("a token on the command line works, with a warning that names the flag; the environment gives none", () => {
        const {logger, records} = recordingLogger();
        assert.equal(resolveWebToken({...sources, value: TOKEN, environment: "from-the-environment-0000"}, logger), TOKEN);
        assert.deepEqual(records.map((record) => record["secretOnCommandLine"]), ["--token"]);
        const quiet = recordingLogger();
        assert.equal(resolveWebToken({...sources, environment: TOKEN}, quiet.logger), TOKEN);
        assert.equal(resolveWebToken(sources, quiet.logger), undefined);
        assert.deepEqual(quiet.records, []);
    });

    it("--token-file: the file's content, trimmed, without a warning; a missing, empty or multi-line file is refused by name", async (t) => {
        const dir = await mkdtemp(join(tmpdir(), "orchard-token-"));
        t.after(() => rm(dir, {recursive: true, force: true}));
        const {logger, records} = recordingLogger();
        const file = join(dir, "token");
        await writeFile(file, `${TOKEN}\n`, {mode: 0o600});
        assert.equal(resolveWebToken({...sources, file, environment: "from-the-environment-0000"}, logger), TOKEN);
        assert.deepEqual(records, []);
        const refused = (path: string, fact: RegExp) => (error: unknown) =>
            error instanceof OrchardError && error.code === "INVALID_ARGUMENT" && error.message.startsWith(`--token-file ${path}: `) && fact.test(error.message);
        assert.throws(() => resolveWebToken({...sources, file: join(dir, "absent")}, logger), refused(join(dir, "absent"), /no such file/));
        await writeFile(join(dir, "empty"), "\n");
        assert.throws(() => resolveWebToken({...sources, file: join(dir, "empty")}, logger), refused(join(dir, "empty"), /empty/));
        await writeFile(join(dir, "two"), `${TOKEN}\nsecond\n`);
        assert.throws(() => resolveWebToken({...sources, file: join(dir, "two")}, logger), refused(join(dir, "two"), /several lines/));
        assert.throws(() => resolveWebToken({...sources, file, value: TOKEN}, logger), (error: unknown) =>
            error instanceof OrchardError && error.code === "INVALID_ARGUMENT" && /--token or --token-file, not both/.test(error.message));
    });
});
