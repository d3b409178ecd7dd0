#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=512
// The flags: V8's heap sized for a process whose live JS data stays small (~30 MB for a 1M-document
// run; models, logits and the id index live outside the JS heap). With Node's defaults (16 MiB
// semi-spaces, an old generation sized from the machine's RAM) the coordinator's short-lived garbage
// (payloads, results, re-read documents) piled up before V8 collected it: `orchard run` over 1M
// documents peaked at 335 MiB. 2 MiB semi-spaces and a 512 MB old generation made V8 collect as it
// goes (300k documents: 214 -> 134 MiB peak, same speed; bench/fleet-bench.ts, scale part).
// Whoever starts this file with `node` directly (scripts/demo.ts, the tests and benchmarks) passes
// the same flags: scripts/orchard-node-flags.ts reads them here.
// Orchard's CLI entry. The packages ship TypeScript sources (exports point at src/index.ts), so
// register tsx's loader before importing them: one runtime for the CLI, tests and benchmarks.
import {register} from "tsx/esm/api";

register();
const {main} = await import("./orchard-cli.ts");
await main(process.argv.slice(2));
