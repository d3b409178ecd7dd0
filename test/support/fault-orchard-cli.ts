import {createWorkerCommand} from "@orchard/worker/cli";
import {main} from "../../bin/orchard-cli.ts";
import {faultEngineFactory, type EngineFaults} from "./fault-engine.ts";

/** The variable fault-orchard.js reads its faults from (JSON EngineFaults). */
export const FAULT_ENGINE_ENV = "FAULT_ENGINE";

/** The environment that gives a fault-orchard.js process (and its local workers) these faults. */
export function faultEnv(faults: EngineFaults): Record<string, string> {
    return {[FAULT_ENGINE_ENV]: JSON.stringify(faults)};
}

export async function runFaultOrchard(argv: string[]): Promise<void> {
    const faults = JSON.parse(process.env[FAULT_ENGINE_ENV] ?? "{}") as EngineFaults;
    await main(argv, {worker: createWorkerCommand({createEngine: faultEngineFactory(faults)})});
}
