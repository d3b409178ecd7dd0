import {realpath, stat} from "node:fs/promises";
import {basename, dirname, join, resolve} from "node:path";

/**
 * Whether writing `output` would write the file `input` is: compared by identity, not by name, so
 * a symbolic link or a hard link to the input counts as the input (truncating "the output" would
 * destroy it). When both exist, device and inode (links followed); when `output` does not exist
 * yet, the real path of its folder plus its name against the input's real path. A missing input is
 * never the same file as anything.
 */
export async function isSameFile(output: string, input: string): Promise<boolean> {
    const inputInfo = await stat(input).catch(() => undefined);
    if (inputInfo === undefined) return false;
    const outputInfo = await stat(output).catch(() => undefined);
    if (outputInfo !== undefined) return outputInfo.dev === inputInfo.dev && outputInfo.ino === inputInfo.ino;
    // not there yet (or a link to nothing): where opening it would create a file
    const folder = await realpath(dirname(resolve(output))).catch(() => undefined);
    if (folder === undefined) return false;
    return join(folder, basename(output)) === await realpath(input);
}
