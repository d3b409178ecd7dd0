import {accessSync, constants} from "node:fs";
import {delimiter, join} from "node:path";

/** The first executable `name` on `path` (a PATH value), as `command -v` finds it; undefined when there is none. */
export function findExecutable(name: string, path: string): string | undefined {
    for (const dir of path.split(delimiter)) {
        if (dir === "") continue;
        const candidate = join(dir, name);
        try {
            accessSync(candidate, constants.X_OK);
            return candidate;
        } catch {
            // keep looking
        }
    }
    return undefined;
}
