import {cancelCommand, dashboardCommand, provenanceCommand, resumeCommand, retryFailedCommand, runCommand, serveModelCommand, statusCommand} from "@orchard/coordinator/cli";
import {GLOBAL_CLI_OPTIONS, lastFlagWins, reportCliError} from "@orchard/shared";
import {extractCommand, generateCommand, modelCommand, playgroundCommand, verifyCommand, workerCommand} from "@orchard/worker/cli";
import yargs from "yargs";

/**
 * The `orchard` command line: one yargs CommandModule per command, owned by the package whose
 * role it is (worker: extract, generate, model, worker; coordinator: run, status...), from the packages'
 * `/cli` entries: a command loads its implementation when it runs (`orchard run` never loads
 * node-llama-cpp, `orchard worker` never the dashboard). Errors Orchard
 * raises on purpose print as one clear message with an exit code; anything else is a bug.
 * `commands.worker` replaces `orchard worker` (tests start workers whose engine they built).
 */
export async function main(argv: string[], commands: {readonly worker?: typeof workerCommand} = {}): Promise<void> {
    // `orchard run --input` repeats; every other flag given twice takes its last value
    const cli = yargs(lastFlagWins(argv, ["input"]))
        .scriptName("orchard")
        // a flag given twice takes its last value, as in most CLIs (yargs would make an array)
        .parserConfiguration({"duplicate-arguments-array": false})
        .usage("$0 <command> [options]")
        .options(GLOBAL_CLI_OPTIONS)
        .command(extractCommand as never)
        .command(generateCommand as never)
        .command(modelCommand as never)
        .command(runCommand as never)
        .command((commands.worker ?? workerCommand) as never)
        .command(resumeCommand as never)
        .command(cancelCommand as never)
        .command(retryFailedCommand as never)
        .command(statusCommand as never)
        .command(provenanceCommand as never)
        .command(verifyCommand as never)
        .command(dashboardCommand as never)
        .command(serveModelCommand as never)
        .command(playgroundCommand as never)
        .demandCommand(1, "Name a command (orchard --help lists them)")
        .recommendCommands()
        .strict()
        .strictCommands()
        .wrap(Math.min(110, process.stdout.columns ?? 110))
        .fail((message, error, instance) => {
            if (error != null) throw error;
            process.stderr.write(`${instance.help() === undefined ? "" : ""}orchard: ${message}\nRun "orchard --help" for usage.\n`);
            process.exit(1);
        })
        .help()
        .version(false);
    try {
        await cli.parseAsync();
    } catch (error) {
        process.exitCode = reportCliError(error);
    }
}
