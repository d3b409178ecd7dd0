import {readJsonSchemaFile, resolveGenerationTask, type GenerationTaskOptions, type RunTask} from "@orchard/shared";

/** `orchard run --task generate`'s flags: the same as `orchard generate`'s (GENERATION_FLAGS, SAMPLING_FLAGS). */
export interface GenerateRunTaskOptions extends Omit<GenerationTaskOptions, "withJsonSchema"> {
    /** A JSON schema file: the coordinator reads and checks it, and the schema itself travels in the run's settings. */
    readonly jsonSchemaPath?: string | undefined;
}

/**
 * The task of a generate run, checked before any input is read: the flags against each other (the
 * same resolution as `orchard generate`), and the JSON schema file read and checked here, so that
 * workers need no access to it and the run's spec key covers its content.
 */
export async function generateRunTask(options: GenerateRunTaskOptions): Promise<RunTask> {
    const resolved = resolveGenerationTask({...options, withJsonSchema: options.jsonSchemaPath !== undefined});
    const jsonSchema = options.jsonSchemaPath === undefined ? undefined : await readJsonSchemaFile(options.jsonSchemaPath);
    return {
        kind: "generate",
        settings: {
            message: "template" in resolved.source ? {kind: "template", template: options.template as string} : {kind: "field", field: resolved.source.promptField},
            system: resolved.system,
            sampling: resolved.sampling,
            ...(jsonSchema === undefined ? {} : {jsonSchema}),
            output: resolved.output
        }
    };
}
