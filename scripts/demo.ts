// `npm run demo`: the bundled labelled sentiment sample through a whole fleet on this machine, set-up
// included (see scripts/demo/run-demo.ts): `orchard run` with its embedded Redis (redis-server from
// PATH, installed with Homebrew or apt-get if missing, data under .orchard/) and two local workers,
// merging into out/sentiment.jsonl.attributes.jsonl: byte for byte what `orchard extract` writes, which is
// what runs instead where Redis cannot be installed. Extra arguments go to `orchard run`. No download.
import {fileURLToPath} from "node:url";
import {runDemo} from "./demo/run-demo.ts";

// the environment is read here, once: the demo logic takes it as options
process.exitCode = await runDemo({
    repoRoot: fileURLToPath(new URL("..", import.meta.url)),
    cwd: process.cwd(),
    env: process.env,
    platform: process.platform,
    isRoot: process.getuid?.() === 0,
    runArgs: process.argv.slice(2),
    note: (text) => process.stderr.write(text),
    print: (text) => process.stdout.write(text)
});
