import {createLogger, describeNumerics, FLEET_CONNECTION_FLAGS, pathForDisplay, prettyLogsFor, type FleetConnectionFlagValues, type GlobalCliOptions} from "@orchard/shared";
import type {CommandModule} from "yargs";
import type {VerifyReport} from "../../verify/verify-run.ts";
import {ENGINE_FLAGS} from "./extract-command.ts";

interface VerifyArgs extends GlobalCliOptions, FleetConnectionFlagValues {
    run: string;
    sample: number;
    seed: number;
    model?: string;
    json: boolean;
    threads?: number;
    contexts: number;
    gpu: string;
}

export const verifyCommand: CommandModule<GlobalCliOptions, VerifyArgs> = {
    command: "verify <run>",
    describe: "Recompute a random sample of a finished run's documents on this machine, with the run's numerics, and report the largest attribute difference per backend and chip of the machines that computed them",
    builder: (yargs) => yargs
        .positional("run", {type: "string", demandOption: true, describe: "A run id (a re-ask run)"})
        .option("sample", {type: "number", default: 20, describe: "Documents to recompute (chosen at random among the merged ones)"})
        .option("seed", {type: "number", default: 1, describe: "Picks the sample: the same seed, the same documents"})
        .option("model", {alias: "model-path", type: "string", describe: "This machine's copy of the run's model (default: the path the run names; its fingerprint must match)"})
        .option("json", {type: "boolean", default: false, describe: "Print the report as JSON"})
        .option("threads", ENGINE_FLAGS.threads)
        .option("contexts", {...ENGINE_FLAGS.contexts, default: 1})
        .option("gpu", ENGINE_FLAGS.gpu)
        .options(FLEET_CONNECTION_FLAGS)
        .example("$0 verify sentiment-1a2b3c4d --sample 50", "a table: backend, chip, documents, identical, largest difference") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{verifyRun}, {resolveWorkerRedisUrl}] = await Promise.all([import("../../verify/verify-run.ts"), import("../worker-redis-url.ts")]);
        const logger = createLogger({level: args.logLevel === "info" ? "warn" : args.logLevel, pretty: prettyLogsFor(args.logFormat), name: "orchard-verify"});
        const report = await verifyRun({
            // as `orchard worker` finds it: --redis, ORCHARD_REDIS_URL, a joined fleet's URL, the embedded Redis of --state-dir
            redisUrl: await resolveWorkerRedisUrl(args, {}, logger), keyPrefix: args.redisPrefix, runId: args.run, sample: args.sample, seed: args.seed,
            ...(args.model === undefined ? {} : {modelPath: pathForDisplay(args.model)}),
            engine: {contexts: args.contexts, gpu: args.gpu === "false" ? false : args.gpu as "auto", ...(args.threads === undefined ? {} : {threads: args.threads})},
            logger
        });
        process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderVerifyReport(report));
    }
};

/** The report as a table, one row per kind of machine that computed sampled documents. */
export function renderVerifyReport(report: VerifyReport): string {
    const n = report.numerics;
    // control characters of names read from Redis are escaped (JSON string syntax), never sent to the terminal
    const safe = (text: string) => JSON.stringify(text).slice(1, -1);
    const rows = [
        ["BACKEND", "CHIP", "DOCUMENTS", "IDENTICAL", "MAX DIFFERENCE", "WHERE"],
        ...report.groups.map((group) => [
            group.backend, group.chip, String(group.documents), String(group.identical), group.maxDifference === 0 ? "0" : group.maxDifference.toExponential(2),
            group.worst === null ? "-" : `${group.worst.id} attribute ${group.worst.attribute}`
        ])
    ].map((row) => row.map(safe));
    const widths = (rows[0] as string[]).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
    return `Run ${safe(report.runId)}: ${report.sampled} documents recomputed on ${safe(report.machine.host)} (${safe(report.machine.backend)}, ${safe(report.machine.chip)}, ` +
        `node-llama-cpp ${safe(report.machine.nodeLlamaCpp)}, llama.cpp ${safe(report.machine.llamaCpp)}) with ${describeNumerics(n)}\n` +
        rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()).join("\n") + "\n";
}
