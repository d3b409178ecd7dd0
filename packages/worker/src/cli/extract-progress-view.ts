import cliProgress from "cli-progress";
import type {ExtractProgress} from "../extract/extract-job.ts";

/**
 * A progress bar on stderr when it is a TTY (documents, tokens/s, ETA); nothing otherwise, since
 * logs and the final summary already tell a non-interactive reader what happened.
 */
export function createExtractProgressView(options: {enabled: boolean; stream?: NodeJS.WriteStream}) {
    const stream = options.stream ?? process.stderr;
    let bar: cliProgress.SingleBar | undefined;
    return {
        start: (info: {total: number; resumed: number}) => {
            if (!options.enabled || stream.isTTY !== true) return;
            bar = new cliProgress.SingleBar({
                stream,
                format: "{bar} {value}/{total} docs | {tps} tok/s | ETA {eta_formatted}",
                hideCursor: true,
                etaBuffer: 50
            }, cliProgress.Presets.shades_classic);
            bar.start(info.total, info.resumed, {tps: "-"});
        },
        update: (progress: ExtractProgress) => {
            bar?.update(progress.done, {tps: progress.elapsedMs > 0 ? (progress.tokens / (progress.elapsedMs / 1000)).toFixed(0) : "-"});
        },
        stop: () => {
            bar?.stop();
            bar = undefined;
        }
    };
}
