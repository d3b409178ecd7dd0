/**
 * The command line with every earlier occurrence of a repeated `--flag value` / `--flag=value`
 * removed, except for the `repeatable` flags, so that the last one wins.
 *
 * Why not yargs' own `duplicate-arguments-array: false`: yargs-parser 21 adds a repeated numeric
 * flag whose later value is 1 to the earlier one instead of replacing it (`--threads 2 --threads
 * 1` gave threads 3, `--contexts 4 --contexts 1` gave 5: yargs/yargs-parser#506, open), and no
 * option of the parser avoids it. Only occurrences with a value are dropped: a bare `--flag` may
 * be a boolean followed by a positional argument, which must stay where it is. Anything after
 * `--` is left alone.
 */
export function lastFlagWins(argv: readonly string[], repeatable: readonly string[] = []): string[] {
    const end = argv.indexOf("--") === -1 ? argv.length : argv.indexOf("--");
    const occurrences = new Map<string, number[]>();
    for (let i = 0; i < end; i++) {
        const name = flagName(argv[i] as string);
        if (name === undefined || repeatable.includes(name)) continue;
        occurrences.set(name, [...occurrences.get(name) ?? [], i]);
    }
    const drop = new Set<number>();
    for (const positions of occurrences.values()) {
        for (const i of positions.slice(0, -1)) {
            const token = argv[i] as string;
            if (token.includes("=")) drop.add(i);
            else if (i + 1 < end && !(argv[i + 1] as string).startsWith("-") && isNumeric(argv[i + 1] as string)) {
                // `--flag 12`: a value only yargs would read as a number is certainly this flag's value
                drop.add(i);
                drop.add(i + 1);
            }
        }
    }
    return argv.filter((_, i) => !drop.has(i));
}

/** `threads` of `--threads` or `--threads=2`; undefined for anything that is not a long flag. */
function flagName(token: string): string | undefined {
    const match = /^--([A-Za-z][\w-]*)(=|$)/.exec(token);
    return match?.[1];
}

function isNumeric(value: string): boolean {
    return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value);
}
