import {createBullBoard} from "@bull-board/api";
import {BullMQAdapter} from "@bull-board/api/bullMQAdapter";
import type {AppViewRoute} from "@bull-board/api/dist/types.js";
import {ExpressAdapter} from "@bull-board/express";
import type {Logger} from "@orchard/shared";
import type {NextFunction, Request, Response, Router} from "express";
import type {QueueRegistry} from "../queue-registry.ts";
import type {StatusCollector} from "../status-collector.ts";

/** How often the board looks for the queues of new runs. */
const REFRESH_MS = 10_000;

/**
 * bull-board at `basePath` over the shard queues of the recent runs, for the queue internals (jobs,
 * attempts, stack traces). Read-only: retrying a job behind the coordinator's back would compute a
 * shard nobody merges; Orchard's own retry buttons patch the outputs.
 */
export class QueueBoard {
    public readonly router: Router;
    readonly #board: ReturnType<typeof createBullBoard>;
    readonly #queues: QueueRegistry;
    readonly #collector: StatusCollector;
    readonly #log: Logger | undefined;
    readonly #timer: NodeJS.Timeout;
    #shown = "";

    public constructor(init: {basePath: string; queues: QueueRegistry; collector: StatusCollector; logger?: Logger}) {
        const serverAdapter = new LocalExpressAdapter();
        serverAdapter.setBasePath(init.basePath);
        this.#board = createBullBoard({queues: [], serverAdapter, options: {uiConfig: {boardTitle: "Orchard queues"}}});
        this.router = serverAdapter.getRouter() as Router;
        this.#queues = init.queues;
        this.#collector = init.collector;
        this.#log = init.logger;
        this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
        this.#timer.unref();
    }

    /** Shows the queues of the recent runs (a no-op when they did not change). */
    public async refresh(): Promise<void> {
        try {
            const names = (await this.#collector.queueNames()).sort();
            if (names.join("\n") === this.#shown) return;
            this.#shown = names.join("\n");
            this.#board.replaceQueues(names.map((name) => new BullMQAdapter(this.#queues.get(name), {readOnlyMode: true})));
        } catch (error) {
            this.#log?.debug({err: error}, "could not list the queues for bull-board");
        }
    }

    public close(): void {
        clearInterval(this.#timer);
    }
}

/**
 * bull-board's Express adapter, its page served without the links to other hosts its template
 * carries (a stylesheet of Google Fonts): no page of the dashboard makes a request that leaves the
 * machine, since a fleet may have no internet and an operator's browser should not tell a third
 * party which dashboards it opens. The page falls back to the system's fonts.
 */
class LocalExpressAdapter extends ExpressAdapter {
    public override setEntryRoute(route: AppViewRoute): ExpressAdapter {
        this.app[route.method](route.route, (_request: Request, response: Response, next: NextFunction) => {
            const {name, params} = route.handler({basePath: this.basePath, uiConfig: this.uiConfig});
            this.app.render(name, params, (error: Error | null, html: string) => {
                if (error !== null) return next(error);
                response.type("html").send(withoutRemoteLinks(html));
            });
        });
        return this;
    }
}

/** Drops every `<link>` whose href names another host (`https://…`, `//…`). */
export function withoutRemoteLinks(html: string): string {
    return html.replace(/<link\b[^>]*\bhref\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^>]*>\s*/gi, "");
}
