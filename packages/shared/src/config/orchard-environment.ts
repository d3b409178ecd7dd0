import {z} from "zod";
import {OrchardError} from "../errors/orchard-error.ts";

/** The environment variables Orchard reads, read once per process (here, and nowhere else). */
export interface OrchardEnvironment {
    /** ORCHARD_REDIS_URL: the fleet's Redis when --redis is not given. */
    readonly redisUrl: string | undefined;
    /** ORCHARD_DASHBOARD_TOKEN: the dashboard's token when --token / --dashboard-token is not given. */
    readonly dashboardToken: string | undefined;
    /** ORCHARD_PLAYGROUND_TOKEN: the playground's token when --token / --token-file is not given. */
    readonly playgroundToken: string | undefined;
}

const environmentSchema = z.object({
    ORCHARD_REDIS_URL: z.string().trim().min(1).optional(),
    ORCHARD_DASHBOARD_TOKEN: z.string().trim().min(1).optional(),
    ORCHARD_PLAYGROUND_TOKEN: z.string().trim().min(1).optional()
});

export function readOrchardEnvironment(env: NodeJS.ProcessEnv = process.env): OrchardEnvironment {
    const parsed = environmentSchema.safeParse(env);
    if (!parsed.success)
        throw new OrchardError("INVALID_ARGUMENT", `invalid environment: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
    const value = parsed.data;
    return {
        redisUrl: value.ORCHARD_REDIS_URL,
        dashboardToken: value.ORCHARD_DASHBOARD_TOKEN,
        playgroundToken: value.ORCHARD_PLAYGROUND_TOKEN
    };
}
