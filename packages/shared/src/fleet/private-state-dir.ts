import {chmod, lstat, mkdir, readdir} from "node:fs/promises";
import {join} from "node:path";
import {OrchardError} from "../errors/orchard-error.ts";

/** Mode of the state folder and every folder in it: the owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in the state folder (AOF, endpoint, password, records): the owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and its missing parents) readable by its owner only, and tightens what is already
 * there: a state folder holds the embedded Redis's AOF (every document and result of every run),
 * its password and endpoint. A folder made by an older Orchard, or by hand under a loose umask, is
 * chmod-ed to 700 and its files to 600 (nothing in it is executable; symbolic links are left alone: they are not ours to change).
 * Throws INVALID_ARGUMENT when `dir` cannot be a folder (a file is in the way, no permission).
 */
export async function openPrivateStateDir(dir: string): Promise<void> {
    try {
        await mkdir(dir, {recursive: true, mode: PRIVATE_DIR_MODE});
        await tighten(dir, await lstat(dir));
    } catch (error) {
        if (error instanceof OrchardError) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? "";
        const why = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code === "EACCES" || code === "EPERM" ? "permission denied" : (error as Error).message;
        throw new OrchardError("INVALID_ARGUMENT", `cannot use ${dir} as the state folder (--state-dir): ${why}`, {cause: error});
    }
}

async function tighten(path: string, info: Awaited<ReturnType<typeof lstat>>): Promise<void> {
    if (info.isSymbolicLink()) return;
    if (info.isDirectory()) {
        if ((Number(info.mode) & 0o777) !== PRIVATE_DIR_MODE) await chmod(path, PRIVATE_DIR_MODE);
        for (const entry of await readdir(path)) {
            const child = join(path, entry);
            // a file removed meanwhile (Redis rewriting its AOF) has nothing left to protect
            const childInfo = await lstat(child).catch(() => undefined);
            if (childInfo !== undefined) await tighten(child, childInfo).catch(ignoreVanished);
        }
        return;
    }
    if ((Number(info.mode) & 0o777) !== PRIVATE_FILE_MODE) await chmod(path, PRIVATE_FILE_MODE);
}

function ignoreVanished(error: unknown): void {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
}
