// `npm run demo`: synthesizes the tiny test model if it is absent, then runs `orchard extract`
// on the bundled labelled sentiment sample, writing out/sentiment.attributes.jsonl. Everything it
// needs is in the repository: no download, no Redis.
import {spawnSync} from "node:child_process";
import {fileURLToPath} from "node:url";
import {ensureSyntheticModel} from "@orchard/worker";

const root = fileURLToPath(new URL("..", import.meta.url));
const model = await ensureSyntheticModel({preset: "tiny", type: "f32", seed: 1, dir: `${root}models`});
const args = [
    `${root}bin/orchard.js`, "extract",
    "--model", model,
    "--input", `${root}scripts/sample-data/sentiment.jsonl`,
    "--output", `${root}out/sentiment.attributes.jsonl`,
    "--overwrite",
    ...process.argv.slice(2)
];
process.stderr.write(`demo: orchard ${args.slice(1).join(" ")}\n`);
const result = spawnSync(process.execPath, args, {stdio: "inherit"});
process.exit(result.status ?? 1);
