import {numericsExtractFlags, type NumericsSettings} from "@orchard/shared";

/** `orchard worker` flags that set an engine's numerics: a run's own replace the session's. */
const NUMERICS_FLAGS = new Set(["--batch-size", "--engine-route", "--context-size", "--prefix-reuse"]);
const NUMERICS_SWITCHES = new Set(["--flash-attention", "--no-flash-attention"]);

/**
 * The arguments of a run's local workers: the session's (threads, GPU, log level...) without any
 * numerics flag, then the run's numerics, so that they load the engine the run needs at start
 * instead of recreating it on their first shard (a worker would compute with the run's anyway).
 */
export function localWorkerArgs(sessionArgs: readonly string[], numerics: NumericsSettings): string[] {
    const kept: string[] = [];
    for (let i = 0; i < sessionArgs.length; i++) {
        const word = sessionArgs[i] as string;
        if (NUMERICS_FLAGS.has(word)) i++;
        else if (!NUMERICS_SWITCHES.has(word)) kept.push(word);
    }
    return [...kept, ...numericsExtractFlags(numerics)];
}
