import {isAbsolute, relative, resolve, sep} from "node:path";

/**
 * A file path as messages print it: relative to the working directory when it lies inside it
 * (as the user gave it, if relative), absolute otherwise. Never a `../..` path climbing out of the
 * working directory, which reads as nonsense once the reader is somewhere else (issue 14).
 */
export function pathForDisplay(path: string, cwd: string = process.cwd()): string {
    const absolute = resolve(cwd, path);
    const inside = relative(cwd, absolute);
    const climbs = inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside);
    if (climbs) return absolute;
    // the user's own spelling ("./out/a.jsonl") when it stays inside; the working directory itself reads "."
    if (!isAbsolute(path)) return path;
    return inside === "" ? "." : inside;
}
