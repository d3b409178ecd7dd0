#!/usr/bin/env node
// Orchard's CLI entry. The packages ship TypeScript sources (exports point at src/index.ts), so
// register tsx's loader before importing them: one runtime for the CLI, tests and benchmarks.
import {register} from "tsx/esm/api";

register();
const {main} = await import("./orchard-cli.ts");
await main(process.argv.slice(2));
