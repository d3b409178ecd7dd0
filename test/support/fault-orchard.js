// `orchard` for tests whose workers need a faulty engine: the same CLI (bin/orchard-cli.ts), with
// `orchard worker` building its engine through test/support/fault-engine.ts. The faults come from the
// FAULT_ENGINE environment variable (JSON EngineFaults), which only this file reads; local workers of
// an `orchard run` started here run this file too (their command is the coordinator's own), so they
// inherit it. Start it with the node flags of bin/orchard.js (OrchardProcess does).
import {register} from "tsx/esm/api";

register();
const {runFaultOrchard} = await import("./fault-orchard-cli.ts");
await runFaultOrchard(process.argv.slice(2));
