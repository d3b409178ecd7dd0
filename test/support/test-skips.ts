import {appendFileSync} from "node:fs";

/**
 * Environment variable naming the file where a test records that it skipped and what enables it:
 * scripts/run-tests.js sets it and prints one line per skipped test at the very end of `npm test`,
 * where it cannot be missed (a skipped suite is one line among hundreds in the spec output).
 */
export const SKIP_REPORT_ENV = "ORCHARD_TEST_SKIP_REPORT";

/** One skipped test: what, why, and the command that makes it run. */
export interface TestSkip {
    readonly test: string;
    readonly reason: string;
    readonly enable: string;
}

/** Records a skip for the runner's summary; a no-op when the test runs outside scripts/run-tests.js. */
export function reportSkip(skip: TestSkip): void {
    const file = process.env[SKIP_REPORT_ENV];
    if (file !== undefined && file !== "") appendFileSync(file, `${JSON.stringify(skip)}\n`);
}
