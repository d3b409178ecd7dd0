import {constants} from "node:fs";
import {access, mkdir, stat} from "node:fs/promises";
import {OrchardError} from "../errors/orchard-error.ts";

/** Why an errno of a file operation on a path the user gave is the user's to fix, in words; others are not ours to explain. */
const PATH_PROBLEMS: Readonly<Record<string, string>> = {
    ENOTDIR: "a part of the path is a file, not a folder",
    EISDIR: "is a folder, not a file",
    EEXIST: "exists and is not a folder",
    ENOENT: "a folder of the path does not exist",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "the file system is read-only",
    ENAMETOOLONG: "the name is too long",
    ELOOP: "too many symbolic links"
};

/**
 * `error` of a file operation on `path` (named by `flag` in the message) as a one-line
 * OUTPUT_NOT_WRITABLE error when the path is the cause (a folder where a file goes, a file where a
 * folder goes, no permission...); any other error is returned unchanged.
 */
export function outputPathError(error: unknown, path: string, flag: string): unknown {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const problem = code === undefined ? undefined : PATH_PROBLEMS[code];
    if (problem === undefined) return error;
    return new OrchardError("OUTPUT_NOT_WRITABLE", `${flag} ${path}: ${problem} (${code})`, {cause: error, details: {path, errno: code}});
}

/**
 * Makes sure `dir` is a folder this process can create files in, creating it (and its parents)
 * if needed: OUTPUT_NOT_WRITABLE otherwise. Called before any work whose result would go there.
 */
export async function ensureOutputDirectory(dir: string, flag: string): Promise<void> {
    try {
        await mkdir(dir, {recursive: true});
        // mkdir -p accepts an existing folder, and says EEXIST for an existing file
        if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), {code: "EEXIST"});
        await access(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
        throw outputPathError(error, dir, flag);
    }
}

/**
 * Fails early with OUTPUT_NOT_WRITABLE when `path`, an output to come, exists as the wrong kind (a
 * folder given as an output file, a file given as the output folder) or lies under a file. Creates
 * nothing, so a bad input still leaves no trace; the mkdir and open that follow map their own
 * errors with outputPathError (the file system may change in between).
 */
export async function assertOutputPath(path: string, kind: "file" | "folder", flag: string): Promise<void> {
    try {
        const isDirectory = (await stat(path)).isDirectory();
        if (kind === "file" && isDirectory) throw Object.assign(new Error(`${path} is a folder`), {code: "EISDIR"});
        if (kind === "folder" && !isDirectory) throw Object.assign(new Error(`${path} is not a folder`), {code: "EEXIST"});
    } catch (error) {
        // ENOENT: the output, or a folder above it, is still to be created, which mkdir -p will say about
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw outputPathError(error, path, flag);
    }
}
