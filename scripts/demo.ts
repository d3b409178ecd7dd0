// `npm run demo`: synthesizes the tiny test model if it is absent, then runs the bundled labelled
// sentiment sample through a whole fleet on this machine: `orchard run` starts its embedded Redis
// (redis-server from PATH, data under .orchard/) and two local `orchard worker` processes, and
// merges their results into out/sentiment.attributes.jsonl, byte for byte what `orchard extract`
// writes. Another machine can join while it runs with the URL it prints. No download.
import {spawnSync} from "node:child_process";
import {availableParallelism} from "node:os";
import {fileURLToPath} from "node:url";
import {ensureSyntheticModel} from "@orchard/worker";
import {ORCHARD_BIN, ORCHARD_NODE_FLAGS} from "./orchard-node-flags.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const model = await ensureSyntheticModel({preset: "tiny", type: "f32", seed: 1, dir: `${root}models`});
const localWorkers = 2;
const args = [
    ...ORCHARD_NODE_FLAGS, ORCHARD_BIN, "run",
    "--model", model,
    "--input", `${root}scripts/sample-data/sentiment.jsonl`,
    "--output-dir", `${root}out`,
    "--local-workers", String(localWorkers),
    // the workers share this machine's cores: more llama.cpp threads than cores slows everything down
    "--threads", String(Math.max(1, Math.floor(availableParallelism() / localWorkers))),
    "--state-dir", `${root}.orchard`,
    "--overwrite",
    ...process.argv.slice(2)
];
process.stderr.write(`demo: orchard ${args.slice(args.indexOf("run")).join(" ")}\n`);
const result = spawnSync(process.execPath, args, {stdio: "inherit"});
process.exit(result.status ?? 1);
