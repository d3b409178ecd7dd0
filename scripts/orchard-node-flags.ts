import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";

/** bin/orchard.js, the `orchard` CLI. */
export const ORCHARD_BIN = fileURLToPath(new URL("../bin/orchard.js", import.meta.url));

/**
 * The node flags `orchard` runs with (its shebang's, after `node`), for whoever starts
 * bin/orchard.js with `node` directly and wants the process a user's `npx orchard` gets.
 */
export const ORCHARD_NODE_FLAGS: readonly string[] = (() => {
    const shebang = readFileSync(ORCHARD_BIN, "utf8").split("\n", 1)[0] ?? "";
    const words = shebang.replace(/^#!\S*env -S /, "").split(/\s+/);
    if (words[0] !== "node") throw new Error(`${ORCHARD_BIN}: unexpected shebang ${shebang}`);
    return words.slice(1).filter((word) => word !== "");
})();
