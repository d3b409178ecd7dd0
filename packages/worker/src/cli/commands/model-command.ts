import {join} from "node:path";
import {formatByteSize, type GlobalCliOptions} from "@orchard/shared";
import type {Argv, CommandModule} from "yargs";
import {MODEL_PRESET_NAMES, MODEL_WEIGHT_TYPES, type ModelPresetName, type ModelWeightType} from "../../synthetic/model-presets.ts";

interface SynthesizeArgs extends GlobalCliOptions {
    preset: ModelPresetName;
    type: ModelWeightType;
    seed: number;
    out?: string;
}

const synthesizeCommand: CommandModule<GlobalCliOptions, SynthesizeArgs> = {
    command: "synthesize",
    describe: "Write a Mixtral-architecture GGUF with the real Mixtral vocabulary and seeded random weights",
    builder: (yargs) => yargs
        .option("preset", {type: "string", choices: MODEL_PRESET_NAMES, default: "tiny", describe: "tiny: tests; bench: benchmarks; mixtral-width: Mixtral's width with 2 layers, for GPU benchmarks (q8_0 only, ~3.4 GB); mixtral-8x7b: real size (q8_0 only, ~50 GB)"})
        .option("type", {type: "string", choices: MODEL_WEIGHT_TYPES, default: "f32", describe: "Type of the large weight matrices (norms and router stay f32)"})
        .option("seed", {type: "number", default: 1, describe: "Same preset, type and seed give a byte-identical file"})
        .option("out", {type: "string", describe: "Output file (default: models/<preset>-<type>-seed<seed>.gguf)"})
        .example("$0 model synthesize --preset bench --type f16", "") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const [{syntheticModelFileName}, {synthesizeModel}] = await Promise.all([
            import("../../synthetic/ensure-synthetic-model.ts"), import("../../synthetic/synthesize-model.ts")
        ]);
        const outPath = args.out ?? join("models", syntheticModelFileName(args.preset, args.type, args.seed));
        // the 50 GB preset takes a while: show where it is, on a terminal only
        const showProgress = process.stderr.isTTY === true;
        const {path, bytes} = await synthesizeModel({
            preset: args.preset, type: args.type, seed: args.seed, outPath,
            ...(showProgress ? {onProgress: ({bytesDone, totalBytes}) => process.stderr.write(`\r${formatByteSize(bytesDone)} / ${formatByteSize(totalBytes)}`)} : {})
        });
        if (showProgress)
            process.stderr.write("\n");
        process.stdout.write(`${path} (${formatByteSize(bytes)}, ${bytes} bytes)\n`);
    }
};

interface PullArgs extends GlobalCliOptions {
    uri: string;
    dir: string;
    fileName?: string;
}

const pullCommand: CommandModule<GlobalCliOptions, PullArgs> = {
    command: "pull <uri>",
    describe: "Download a GGUF with node-llama-cpp's downloader and print its fingerprint",
    builder: (yargs) => yargs
        .positional("uri", {type: "string", demandOption: true, describe: "http(s) URL of a GGUF, or hf:<user>/<repo>:<quant> / hf:<user>/<repo>/<file>"})
        .option("dir", {type: "string", default: "models", describe: "Folder to download into"})
        .option("file-name", {type: "string", describe: "File name in --dir (default: the server's)"})
        .example("$0 model pull hf:TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF:Q4_K_M", "the first Mac of a fleet") as never,
    handler: async (args) => {
        // the implementation loads when the command runs, not when the CLI starts (see cli/index.ts)
        const {pullModel} = await import("../../pull/pull-model.ts");
        const showProgress = process.stderr.isTTY === true;
        const {path, fingerprint} = await pullModel({
            uri: args.uri, dir: args.dir, fileName: args.fileName,
            ...(showProgress ? {onProgress: ({downloadedBytes, totalBytes}) => process.stderr.write(`\r${formatByteSize(downloadedBytes)} / ${formatByteSize(totalBytes)}`)} : {})
        });
        if (showProgress) process.stderr.write("\n");
        process.stdout.write(`${path} (${formatByteSize(fingerprint.sizeBytes)}, ${fingerprint.sizeBytes} bytes)\nfingerprint: ${fingerprint.fingerprint}\n`);
    }
};

/** `orchard model <command>`: model files. */
export const modelCommand: CommandModule<GlobalCliOptions, GlobalCliOptions> = {
    command: "model <command>",
    describe: "Model files: synthesize test and benchmark models, download a model",
    builder: (yargs: Argv<GlobalCliOptions>) => yargs
        .command(synthesizeCommand)
        .command(pullCommand)
        .demandCommand(1) as never,
    handler: () => {
        // yargs runs the subcommand; demandCommand rejects a missing one
    }
};
