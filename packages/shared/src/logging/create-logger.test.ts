import assert from "node:assert/strict";
import {Writable} from "node:stream";
import {describe, it} from "node:test";
import {createLogger} from "./create-logger.ts";

function capture(): {destination: Writable; text: () => string} {
    let text = "";
    return {destination: new Writable({write: (chunk: Buffer, _encoding, callback) => ((text += chunk.toString()), callback())}), text: () => text};
}

describe("createLogger", () => {
    it("pretty lines (a terminal) carry no escape sequence or control character from the strings logged", () => {
        const out = capture();
        const logger = createLogger({pretty: true, destination: out.destination});
        logger.warn({worker: "evil\x1b[2J\x07", reason: "a\rb", nested: {host: "h\x1b]0;title\x07"}}, "dropped \x1b[H a result");
        logger.child({shard: "x\x1b[?1049h"}).info("from %s", "w\x1b[2Jb\u202e");
        logger.error({err: new Error("worker said \x1b[2J\x07no")}, "failed");
        // pino-pretty's own colours are SGR sequences (ESC [ digits m); nothing else may reach the terminal
        const text = out.text();
        assert.doesNotMatch(text.replace(/\x1b\[[0-9;]*m/g, ""), /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
        for (const kept of ["evil", "dropped  a result", "from wb", "worker said no"]) assert.ok(text.includes(kept), `${kept} in ${JSON.stringify(text)}`);
    });

    it("JSON lines keep the strings exact (JSON escapes them)", () => {
        const out = capture();
        createLogger({pretty: false, destination: out.destination}).warn({worker: "evil\x1b[2J"}, "m\x07");
        const line = JSON.parse(out.text()) as {worker: string; msg: string};
        assert.deepEqual([line.worker, line.msg], ["evil\x1b[2J", "m\x07"]);
    });
});
