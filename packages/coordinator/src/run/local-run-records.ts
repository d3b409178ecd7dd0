import {chmod, mkdir, open, readFile, rename, rm} from "node:fs/promises";
import {join, resolve} from "node:path";
import {localRunRecordSchema, OrchardError, outputNamingOf, runTaskOf, taskKind, type LocalRunRecord, type RunSpec} from "@orchard/shared";
import {firstDifference} from "./first-difference.ts";
import {assertDerivedOutputs, outputPaths} from "./run-outputs.ts";

/**
 * This machine's own record of the runs its coordinators work on: `<state dir>/runs/<runId>.json`
 * (folder mode 700, files 600, written atomically), holding each run's spec as this machine
 * derived it. Redis is writable by every worker, so a run's spec read from Redis is trusted for
 * file operations (truncating, renaming over, creating outputs; reading inputs) only when it equals
 * this record, or, for a run this machine takes over, when its outputs are exactly the ones derived
 * from the output folder the user names.
 */
export class LocalRunRecords {
    /** `<state dir>/runs`. */
    public readonly dir: string;

    public constructor(stateDir: string) {
        this.dir = join(resolve(stateDir), "runs");
    }

    public path(runId: string): string {
        return join(this.dir, `${runId}.json`);
    }

    /** Records `spec` as this machine's: a run created here, or one checked by `check` whose inputs were checked too. */
    public async save(spec: RunSpec): Promise<void> {
        await mkdir(this.dir, {recursive: true, mode: 0o700});
        // mkdir leaves an existing folder's mode alone: it holds input and output paths of every run
        await chmod(this.dir, 0o700);
        const record: LocalRunRecord = {v: 1, spec, recordedAt: new Date().toISOString()};
        const path = this.path(spec.runId);
        const temporary = `${path}.${process.pid}.tmp`;
        const handle = await open(temporary, "w", 0o600);
        try {
            await handle.writeFile(JSON.stringify(record) + "\n");
            await handle.datasync();
        } catch (error) {
            await handle.close();
            await rm(temporary, {force: true});
            throw error;
        }
        await handle.close();
        await rename(temporary, path);
    }

    /** The record of `runId`, or undefined if this machine has none. A record that does not parse is refused (it is disk input too). */
    public async load(runId: string): Promise<LocalRunRecord | undefined> {
        const path = this.path(runId);
        let text: string;
        try {
            text = await readFile(path, "utf8");
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw new OrchardError("INVALID_ARGUMENT", `${path}: cannot read this machine's record of run ${runId}: ${(error as Error).message}`, {cause: error});
        }
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            value = undefined;
        }
        const parsed = localRunRecordSchema.safeParse(value);
        if (!parsed.success || parsed.data.spec.runId !== runId)
            throw new OrchardError("RUN_RECORD_MISMATCH",
                `${path}: this machine's record of run ${runId} is damaged; remove it, then take the run over with --output-dir DIR (the folder of its outputs)`, {details: {path}});
        return parsed.data;
    }

    /**
     * The spec to coordinate `spec` (read from Redis) with, checked before any file is touched:
     * with `outputDir` (an explicit take-over), the spec's outputs must be the ones derived from that
     * folder and its inputs; without it, the spec must equal this machine's record of the run.
     * RUN_RECORD_MISMATCH names what differs. The caller `save`s the spec once its inputs are checked.
     */
    public async check(spec: RunSpec, outputDir: string | undefined): Promise<RunSpec> {
        assertDerivedOutputs(spec);
        if (outputDir !== undefined) {
            const wanted = resolve(outputDir);
            if (spec.outputDir !== wanted)
                throw mismatch(spec, "outputDir", `names ${JSON.stringify(spec.outputDir)}, not --output-dir ${JSON.stringify(wanted)}`);
            const derived = outputPaths(spec.inputs.map((input) => input.path), wanted, taskKind(runTaskOf(spec).kind), outputNamingOf(spec));
            for (const [i, input] of spec.inputs.entries())
                if (input.output !== derived[i]) throw mismatch(spec, `inputs[${i}].output`, `names ${JSON.stringify(input.output)}, not ${JSON.stringify(derived[i])}`);
            return spec;
        }
        const record = await this.load(spec.runId);
        if (record === undefined)
            throw new OrchardError("RUN_RECORD_MISMATCH",
                `run ${spec.runId} has no record on this machine (${this.path(spec.runId)}): it was started elsewhere, with another --state-dir, or by an older Orchard; ` +
                "to coordinate it here, pass --output-dir DIR (the folder of its outputs): the outputs are derived from it and checked against the run", {details: {field: "record"}});
        const field = firstDifference(record.spec, spec);
        if (field !== undefined)
            throw mismatch(spec, field, `differs from this machine's record ${this.path(spec.runId)}`);
        return spec;
    }
}

/** Paths in these messages come from Redis: quoted as JSON, so no control character reaches the terminal. */
function mismatch(spec: RunSpec, field: string, what: string): OrchardError {
    return new OrchardError("RUN_RECORD_MISMATCH",
        `run ${spec.runId}'s record in Redis is refused: its ${field} ${what}; no file was touched`, {details: {field}});
}
