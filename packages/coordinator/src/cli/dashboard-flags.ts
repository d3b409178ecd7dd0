import {DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT} from "@orchard/shared";

/** `orchard run --dashboard` and its settings (the same as `orchard dashboard`'s). */
export const RUN_DASHBOARD_FLAGS = {
    "dashboard": {type: "boolean", default: false, describe: "Serve the web dashboard while the run goes on (see `orchard dashboard`)"},
    "dashboard-port": {type: "number", default: DEFAULT_DASHBOARD_PORT, describe: "Port of the dashboard"},
    "dashboard-host": {type: "string", default: DEFAULT_DASHBOARD_HOST, describe: "Listen address of the dashboard; any but loopback needs --dashboard-token"},
    "dashboard-token": {type: "string", describe: "Token the dashboard requires on every request (at least 16 characters); visible to other users in ps: prefer ORCHARD_DASHBOARD_TOKEN or --dashboard-token-file"},
    "dashboard-token-file": {type: "string", describe: "File holding the dashboard's token (instead of --dashboard-token)"}
} as const;

export interface RunDashboardFlagValues {
    readonly dashboard?: boolean;
    readonly dashboardPort?: number;
    readonly dashboardHost?: string;
    readonly dashboardToken?: string;
    readonly dashboardTokenFile?: string;
}
