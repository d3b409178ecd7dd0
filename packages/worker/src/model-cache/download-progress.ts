import cliProgress from "cli-progress";
import {formatByteSize, type Logger} from "@orchard/shared";

/** A log line every this share of the file when stderr is not a terminal. */
const LOG_EVERY_FRACTION = 0.1;

/**
 * How a model download shows its progress: a bar on stderr when it is a TTY (bytes, speed, ETA),
 * else an info log line every 10 % (a service's log file gets ten lines, not thousands).
 */
export function downloadProgress(options: {logger?: Logger; stream?: NodeJS.WriteStream}): {
    onProgress: (progress: {readonly downloadedBytes: number; readonly totalBytes: number}) => void;
    stop: () => void;
} {
    const stream = options.stream ?? process.stderr;
    let bar: cliProgress.SingleBar | undefined;
    let nextLog = 0;
    return {
        onProgress: ({downloadedBytes, totalBytes}) => {
            if (stream.isTTY === true) {
                if (bar === undefined) {
                    bar = new cliProgress.SingleBar({
                        stream, hideCursor: true, etaBuffer: 200,
                        format: "model {bar} {percentage}% | {done} / {size} | ETA {eta_formatted}"
                    }, cliProgress.Presets.shades_classic);
                    bar.start(totalBytes, downloadedBytes, {done: formatByteSize(downloadedBytes), size: formatByteSize(totalBytes)});
                }
                bar.update(downloadedBytes, {done: formatByteSize(downloadedBytes)});
                return;
            }
            const fraction = totalBytes === 0 ? 1 : downloadedBytes / totalBytes;
            if (fraction >= nextLog) {
                options.logger?.info({downloadedBytes, totalBytes}, `model download: ${Math.floor(fraction * 100)}% (${formatByteSize(downloadedBytes)} of ${formatByteSize(totalBytes)})`);
                nextLog = (Math.floor(fraction / LOG_EVERY_FRACTION) + 1) * LOG_EVERY_FRACTION;
            }
        },
        stop: () => {
            bar?.stop();
            bar = undefined;
        }
    };
}
