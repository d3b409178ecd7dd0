// Writes infra/launchd/com.orchard.worker.plist, the example LaunchAgent, with the code that
// `orchard worker install-service` uses (test/launchd-example.test.ts fails when they differ):
//   node --import tsx scripts/render-launchd-example.ts
import {writeFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {renderLaunchdExample} from "@orchard/worker";
import {ORCHARD_NODE_FLAGS} from "./orchard-node-flags.ts";

export const LAUNCHD_EXAMPLE_PATH = fileURLToPath(new URL("../infra/launchd/com.orchard.worker.plist", import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    writeFileSync(LAUNCHD_EXAMPLE_PATH, renderLaunchdExample(ORCHARD_NODE_FLAGS));
    process.stdout.write(`${LAUNCHD_EXAMPLE_PATH}\n`);
}
