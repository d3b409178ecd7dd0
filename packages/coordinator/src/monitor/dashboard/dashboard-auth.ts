import {localWebAuth, type LocalWebMiddleware, type TokenAttemptLimitOptions} from "@orchard/shared";

/** Cookie that carries the token after a page was opened with `?token=`. */
export const TOKEN_COOKIE = "orchard_dashboard_token";

/**
 * Guards every request of the dashboard (pages, API, live stream, /metrics, /queues) with the rules
 * every web server of ours shares (see localWebAuth in shared): the Host check on loopback, the
 * token elsewhere, the action header and a same-origin Origin on actions.
 */
export function dashboardAuth(options: {token: string | undefined; attempts?: TokenAttemptLimitOptions}): LocalWebMiddleware {
    return localWebAuth({service: "dashboard", token: options.token, cookieName: TOKEN_COOKIE, ...(options.attempts === undefined ? {} : {attempts: options.attempts})});
}
