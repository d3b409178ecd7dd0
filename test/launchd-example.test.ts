import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {describe, it} from "node:test";
import {renderLaunchdExample} from "@orchard/worker";
import {parse} from "plist";
import {LAUNCHD_EXAMPLE_PATH} from "../scripts/render-launchd-example.ts";
import {ORCHARD_NODE_FLAGS} from "../scripts/orchard-node-flags.ts";

describe("infra/launchd/com.orchard.worker.plist", () => {
    it("is what install-service's code renders (regenerate: node --import tsx scripts/render-launchd-example.ts), and parses as a plist", () => {
        const checkedIn = readFileSync(LAUNCHD_EXAMPLE_PATH, "utf8");
        assert.equal(checkedIn, renderLaunchdExample(ORCHARD_NODE_FLAGS));
        const plist = parse(checkedIn) as Record<string, unknown>;
        assert.equal(plist["Label"], "com.orchard.worker");
        assert.deepEqual((plist["ProgramArguments"] as string[]).slice(0, 2 + ORCHARD_NODE_FLAGS.length),
            ["/opt/homebrew/bin/node", ...ORCHARD_NODE_FLAGS, "/Users/YOU/orchard/bin/orchard.js"]);
        assert.doesNotMatch(checkedIn, /redis:\/\//);
    });
});
