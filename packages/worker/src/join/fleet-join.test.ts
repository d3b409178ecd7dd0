import assert from "node:assert/strict";
import {mkdtemp, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PassThrough} from "node:stream";
import {after, before, describe, it} from "node:test";
import type {BrowseResult, DiscoveredFleet} from "@orchard/shared";
import {resolveWorkerRedisUrl} from "../cli/worker-redis-url.ts";
import {fleetRedisUrl, joinedUrlPath, joinFleet, selectFleet} from "./fleet-join.ts";
import {askHidden} from "./hidden-prompt.ts";

const STUDIO: DiscoveredFleet = {
    name: "studio-6379", host: "192.168.1.20", redisPort: 6379, redisHost: undefined, tls: false, keyPrefix: "orchard", runs: ["reviews-0a1b2c3d"], version: "0.1.0"
};
const MINI: DiscoveredFleet = {...STUDIO, name: "mini-6379", host: "192.168.1.21", runs: ["labels-11223344", "reviews-99887766"]};

describe("joining a coordinator found on the LAN", () => {
    let dir = "";
    let stateDir = "";
    let count = 0;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "orchard-join-"));
    });
    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });
    const freshState = () => (stateDir = join(dir, `state-${++count}`));
    const found = (...fleets: DiscoveredFleet[]) => async (): Promise<BrowseResult> => ({fleets, refused: []});

    it("picks by instance name, then run id or --name, then host; none or several is an error naming what was found", () => {
        assert.equal(selectFleet([STUDIO, MINI], "mini-6379"), MINI);
        assert.equal(selectFleet([STUDIO, MINI], "labels-11223344"), MINI);
        assert.equal(selectFleet([STUDIO, MINI], "labels"), MINI);
        assert.equal(selectFleet([STUDIO, MINI], "192.168.1.20"), STUDIO);
        assert.throws(() => selectFleet([STUDIO, MINI], "reviews"), {code: "INVALID_ARGUMENT", message: /several coordinators match \(studio-6379, mini-6379\)/});
        assert.throws(() => selectFleet([STUDIO], "laptop"), {code: "INVALID_ARGUMENT", message: /no such coordinator \(found: studio-6379\)/});
        assert.throws(() => selectFleet([], "laptop"), {message: /no coordinator answered/});
    });

    it("builds the URL: password encoded, IPv6 in brackets, rediss:// for TLS", () => {
        assert.equal(fleetRedisUrl(STUDIO, "p@ss:/word"), "redis://:p%40ss%3A%2Fword@192.168.1.20:6379");
        assert.equal(fleetRedisUrl({host: "fd00::5", redisPort: 6380, tls: true}, ""), "rediss://[fd00::5]:6380");
    });

    it("without a terminal: a clear error saying how to give the URL, and nothing stored", async () => {
        freshState();
        await assert.rejects(joinFleet({name: "studio-6379", stateDir, keyPrefix: "orchard", browse: found(STUDIO), askPassword: undefined}),
            {code: "INVALID_ARGUMENT", message: /not one: run `orchard worker --join studio-6379` in a terminal once .*--redis-url-file FILE \(redis:\/\/:PASSWORD@192\.168\.1\.20:6379\)/});
        await assert.rejects(stat(stateDir), {code: "ENOENT"});
    });

    it("asks the password once, checks it, keeps the URL with mode 600; the next join of the same address asks nothing", async () => {
        freshState();
        const asked: string[] = [];
        const checked: string[] = [];
        const options = {
            name: "reviews", stateDir, keyPrefix: "orchard", browse: found(STUDIO),
            askPassword: async (prompt: string) => (asked.push(prompt), "s3cret"), checkUrl: async (url: string) => void checked.push(url)
        };
        const first = await joinFleet(options);
        assert.equal(first.url, "redis://:s3cret@192.168.1.20:6379");
        assert.equal(first.reused, false);
        assert.equal(asked.length, 1);
        assert.ok(!asked[0]?.includes("s3cret"));
        assert.deepEqual(checked, [first.url]);
        assert.equal((await stat(joinedUrlPath(stateDir))).mode & 0o777, 0o600);
        assert.equal((await stat(stateDir)).mode & 0o777, 0o700);
        assert.equal(await readFile(joinedUrlPath(stateDir), "utf8"), `${first.url}\n`);

        const again = await joinFleet(options);
        assert.deepEqual([again.url, again.reused, asked.length, checked.length], [first.url, true, 1, 1]);
        // the coordinator restarted on another port: the stored password is for another server, so it is asked again
        await joinFleet({...options, browse: found({...STUDIO, redisPort: 6390})});
        assert.equal(asked.length, 2);
        assert.equal((await readFile(joinedUrlPath(stateDir), "utf8")).trim(), "redis://:s3cret@192.168.1.20:6390");
    });

    it("a refused password or another key prefix stores nothing", async () => {
        freshState();
        const refuse = async () => {
            throw Object.assign(new Error("refused"), {code: "INVALID_ARGUMENT"});
        };
        await assert.rejects(joinFleet({name: "studio-6379", stateDir, keyPrefix: "orchard", browse: found(STUDIO), askPassword: async () => "wrong", checkUrl: refuse}), /refused/);
        await assert.rejects(stat(joinedUrlPath(stateDir)), {code: "ENOENT"});
        await assert.rejects(joinFleet({name: "studio-6379", stateDir, keyPrefix: "orchard", browse: found({...STUDIO, keyPrefix: "team"}), askPassword: async () => "x", checkUrl: async () => undefined}),
            {code: "INVALID_ARGUMENT", message: /add --redis-prefix team/});
    });

    it("orchard worker without --redis: the stored URL, else the embedded Redis, else the coordinators listed and a way to pick one", async (t) => {
        const saved = process.env["ORCHARD_REDIS_URL"];
        delete process.env["ORCHARD_REDIS_URL"];
        t.after(() => {
            if (saved !== undefined) process.env["ORCHARD_REDIS_URL"] = saved;
        });
        freshState();
        let printed = "";
        let browsed = 0;
        const sources = (fleets: DiscoveredFleet[]) => ({
            browse: async () => (browsed++, {fleets, refused: [{name: "odd-1", reason: "TXT record: txtvers: invalid"}]}),
            askPassword: undefined, print: (text: string) => void (printed += text)
        });
        const args = {redisPrefix: "orchard", stateDir};
        await assert.rejects(resolveWorkerRedisUrl(args, sources([STUDIO, MINI])), {code: "INVALID_ARGUMENT", message: /join one of the coordinators above with --join NAME/});
        assert.equal(printed, "Coordinators on the LAN:\n" +
            "  studio-6379  192.168.1.20:6379  runs: reviews-0a1b2c3d  (Orchard 0.1.0)\n" +
            "  mini-6379  192.168.1.21:6379  runs: labels-11223344, reviews-99887766  (Orchard 0.1.0)\n" +
            "  ignored odd-1: TXT record: txtvers: invalid\n");
        await assert.rejects(resolveWorkerRedisUrl(args, sources([])), {message: /no coordinator answered on the LAN/});

        await joinFleet({name: "studio-6379", stateDir, keyPrefix: "orchard", browse: found(STUDIO), askPassword: async () => "s3cret", checkUrl: async () => undefined});
        browsed = 0;
        assert.equal(await resolveWorkerRedisUrl(args, sources([])), "redis://:s3cret@192.168.1.20:6379");
        assert.equal(browsed, 0, "a stored URL needs no browsing");
        await assert.rejects(resolveWorkerRedisUrl({...args, join: "studio-6379", redis: "redis://h:1"}, sources([])), {message: /one of --redis, --join, not several/});
        await writeFile(joinedUrlPath(stateDir), "http://not-redis\n");
        await assert.rejects(resolveWorkerRedisUrl(args, sources([])), {code: "INVALID_ARGUMENT", message: /joined-redis-url: a http:\/\/ URL/});
    });
});

describe("askHidden", () => {
    it("reads up to Enter in raw mode with Backspace, echoing nothing; Ctrl-C cancels", async () => {
        const terminal = () => {
            const input = Object.assign(new PassThrough(), {isTTY: true, rawModes: [] as boolean[], setRawMode(this: {rawModes: boolean[]}, on: boolean) { this.rawModes.push(on); return this; }});
            const output = new PassThrough();
            let shown = "";
            output.setEncoding("utf8").on("data", (chunk: string) => (shown += chunk));
            return {input, output, shown: () => shown};
        };
        const typed = terminal();
        const answer = askHidden("Password: ", {input: typed.input as never, output: typed.output});
        typed.input.write("s3x\u007fcr");
        typed.input.write("et\r");
        assert.equal(await answer, "s3cret");
        assert.equal(typed.shown(), "Password: \n");
        assert.deepEqual(typed.input.rawModes, [true, false]);

        const cancelled = terminal();
        const none = askHidden("Password: ", {input: cancelled.input as never, output: cancelled.output});
        cancelled.input.write("abc\u0003");
        await assert.rejects(none, {code: "INVALID_ARGUMENT", message: /cancelled/});
        assert.deepEqual(cancelled.input.rawModes, [true, false]);
    });
});
