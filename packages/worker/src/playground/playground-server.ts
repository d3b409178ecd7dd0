import {randomUUID} from "node:crypto";
import {readFile} from "node:fs/promises";
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {AddressInfo} from "node:net";
import {basename} from "node:path";
import {ATTRIBUTE_NAMES, DEFAULT_PLAYGROUND_PORT, localWebAuth, OrchardError, resolveWebListen, type Logger, type TokenAttemptLimitOptions} from "@orchard/shared";
import type {ExtractionEngine} from "../engine/extraction-engine.ts";
import {ChatEngine, type ChatEngineOptions} from "./chat-engine.ts";
import {FleetRunsReader} from "./fleet-runs-reader.ts";
import {PlaygroundHttpError} from "./playground-http-error.ts";
import {REASK_PRESETS} from "./reask-presets.ts";
import {reask} from "./reask-service.ts";
import {RequestQueue} from "./request-queue.ts";

const ASSETS = new URL("./assets/", import.meta.url);
/** The page loads nothing from elsewhere (it must work offline): scripts and styles from here only. */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Largest request body read, in bytes: a document is cut to --max-document-chars anyway, this only bounds memory. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Cookie that carries the playground's token after a page was opened with `?token=`. */
const TOKEN_COOKIE = "orchard_playground_token";
/** Header a request may carry to name itself, so that the page can ask for its place in the queue. */
const TICKET_HEADER = "x-orchard-request-id";

export interface PlaygroundServerOptions {
    /** The loaded engine (the playground does not close it). */
    readonly engine: ExtractionEngine;
    /** Listen address. Default 127.0.0.1; any other needs `token`. */
    readonly host?: string;
    /** Listen port. Default DEFAULT_PLAYGROUND_PORT (8421); 0 picks a free one. */
    readonly port?: number;
    /** Token every request must present (at least 16 characters); required beyond loopback. */
    readonly token?: string;
    readonly tokenAttempts?: TokenAttemptLimitOptions;
    /** Documents are stripped and cut to this many code points, as `orchard extract --max-document-chars` does. */
    readonly maxDocumentChars: number;
    /** How to load the chat's engine, on the first chat request (re-ask alone never loads the model twice). */
    readonly chat: ChatEngineOptions;
    /** The fleet's Redis, whose recent runs' prompts become presets (GET /api/runs). Default none: the runs list is empty, with a reason. */
    readonly fleet?: {readonly redisUrl: string; readonly keyPrefix: string};
    readonly logger?: Logger;
}

/**
 * The playground's web server: one page (re-ask form, answer, P(Yes), prompt, the 32 attributes,
 * the Reexpress line) and its JSON API over one loaded engine; requests take turns through a
 * RequestQueue. Guarded like the dashboard (localWebAuth). `close()` stops it.
 */
export class PlaygroundServer {
    /** Base URL, e.g. http://127.0.0.1:8421. */
    public readonly url: string;
    readonly #server: Server;
    readonly #chat: () => Promise<ChatEngine> | undefined;
    readonly #runs: FleetRunsReader | undefined;
    #closing: Promise<void> | undefined;

    private constructor(url: string, server: Server, chat: () => Promise<ChatEngine> | undefined, runs: FleetRunsReader | undefined) {
        this.url = url;
        this.#server = server;
        this.#chat = chat;
        this.#runs = runs;
    }

    public static async start(options: PlaygroundServerOptions): Promise<PlaygroundServer> {
        const listen = resolveWebListen({
            service: "playground", host: options.host ?? "127.0.0.1", port: options.port ?? DEFAULT_PLAYGROUND_PORT, token: options.token,
            tokenHint: "--token-file (or ORCHARD_PLAYGROUND_TOKEN)"
        });
        const log = options.logger?.child({component: "playground"});
        const [page, script, style] = await Promise.all(["playground.html", "playground.js", "playground.css"].map((name) => readFile(new URL(name, ASSETS), "utf8"))) as [string, string, string];
        const {engine} = options;
        const queue = new RequestQueue();
        let chat: Promise<ChatEngine> | undefined;
        const chatEngine = () => {
            chat ??= ChatEngine.load(options.chat);
            // a failed load is tried again by the next request
            chat.catch(() => (chat = undefined));
            return chat;
        };
        const info = {
            model: basename(engine.options.modelPath),
            backend: engine.gpu === false ? "cpu" : engine.gpu,
            contextSize: engine.options.contextSize,
            route: engine.route,
            maxDocumentChars: options.maxDocumentChars,
            attributeNames: ATTRIBUTE_NAMES,
            presets: REASK_PRESETS
        };
        const runs = options.fleet === undefined ? undefined : new FleetRunsReader({...options.fleet, ...(options.logger === undefined ? {} : {logger: options.logger})});
        const noFleet = {runs: [], reason: "no fleet Redis: start the playground with --redis (or ORCHARD_REDIS_URL, or in the folder of a running `orchard run`)"};
        const auth = localWebAuth({service: "playground", token: listen.token, cookieName: TOKEN_COOKIE, ...(options.tokenAttempts === undefined ? {} : {attempts: options.tokenAttempts})});

        const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
            const url = new URL(request.url ?? "/", "http://playground");
            const method = request.method ?? "GET";
            const read = method === "GET" || method === "HEAD";
            if (url.pathname === "/" && read) return send(response, 200, "text/html; charset=utf-8", page, {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"});
            if (url.pathname === "/assets/playground.js" && read) return send(response, 200, "text/javascript; charset=utf-8", script);
            if (url.pathname === "/assets/playground.css" && read) return send(response, 200, "text/css; charset=utf-8", style);
            if (url.pathname === "/favicon.ico" && read) return send(response, 204, "text/plain", "");
            if (url.pathname === "/healthz" && read) return send(response, 200, "text/plain", "ok\n");
            if (url.pathname === "/api/info" && read) return sendJson(response, 200, info);
            if (url.pathname === "/api/runs" && read) return sendJson(response, 200, runs === undefined ? noFleet : await runs.list());
            if (url.pathname === "/api/queue" && read) {
                const ticket = url.searchParams.get("request");
                return sendJson(response, 200, {position: ticket === null ? null : queue.positionOf(ticket) ?? null, waiting: queue.waiting, busy: queue.busy});
            }
            if (url.pathname === "/api/reask") {
                if (method !== "POST") throw new PlaygroundHttpError(405, "METHOD_NOT_ALLOWED", "POST a JSON body to /api/reask");
                const body = await readJsonBody(request);
                const header = request.headers[TICKET_HEADER];
                const ticket = typeof header === "string" && header !== "" ? header : randomUUID();
                const started = performance.now();
                const result = await queue.run(ticket, () => reask(engine, body, {maxDocumentChars: options.maxDocumentChars}));
                log?.info({tokens: result.tokens, ms: Math.round(performance.now() - started), answer: result.answer}, "re-ask");
                return sendJson(response, 200, result);
            }
            if (url.pathname === "/api/chat") {
                if (method !== "POST") throw new PlaygroundHttpError(405, "METHOD_NOT_ALLOWED", "POST a JSON body to /api/chat");
                const chatRequest = ChatEngine.parse(await readJsonBody(request));
                const header = request.headers[TICKET_HEADER];
                const ticket = typeof header === "string" && header !== "" ? header : randomUUID();
                // the Stop button (or a closed tab) ends the answer: the client drops the connection
                const stop = new AbortController();
                response.on("close", () => stop.abort());
                let streaming = false;
                const write = (event: Record<string, unknown>) => {
                    if (!streaming) response.writeHead(200, {"Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store"});
                    streaming = true;
                    response.write(`${JSON.stringify(event)}\n`);
                };
                try {
                    await queue.run(ticket, async () => {
                        if (stop.signal.aborted) return;
                        const engine = await chatEngine();
                        const started = performance.now();
                        const turn = await engine.reply(chatRequest, {
                            onText: (text) => write({type: "text", text}), onTool: (call) => write({type: "tool", ...call}), signal: stop.signal
                        });
                        const seconds = (performance.now() - started) / 1000;
                        log?.info({finish: turn.finish, tokens: turn.tokens, seconds}, "chat turn");
                        write({type: "done", finish: turn.finish, tokens: turn.tokens, seconds, ...(turn.json === undefined ? {} : {json: turn.json})});
                    });
                } catch (error) {
                    if (!streaming) throw error;
                    const known = error instanceof PlaygroundHttpError;
                    if (!known) log?.error({err: error}, "chat failed");
                    write({type: "error", code: known ? error.code : "ENGINE_FAILED", message: (error as Error).message});
                }
                response.end();
                return;
            }
            throw new PlaygroundHttpError(404, "NOT_FOUND", `no such page: ${url.pathname}`);
        };

        const server = createServer((request, response) => {
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("Referrer-Policy", "no-referrer");
            response.setHeader("X-Frame-Options", "DENY");
            auth(request, response, () => {
                route(request, response).catch((error: unknown) => {
                    if (error instanceof PlaygroundHttpError) {
                        if (error.status >= 500) log?.error({err: error}, "request failed");
                        return sendJson(response, error.status, {error: {code: error.code, message: error.message, ...(error.details === undefined ? {} : {details: error.details})}});
                    }
                    log?.error({err: error}, "request failed (a bug)");
                    sendJson(response, 500, {error: {code: "INTERNAL", message: "internal error (a bug): see the playground's log"}});
                });
            });
        });
        try {
            await new Promise<void>((resolve, reject) => {
                server.once("error", reject);
                server.listen(listen.port, listen.host, () => {
                    server.off("error", reject);
                    resolve();
                });
            });
        } catch (error) {
            runs?.close();
            const code = (error as NodeJS.ErrnoException).code;
            throw new OrchardError("INVALID_ARGUMENT", code === "EADDRINUSE"
                ? `port ${listen.port} on ${listen.host} is in use: choose another with --port`
                : `the playground cannot listen on ${listen.host}:${listen.port}: ${(error as Error).message}`, {cause: error});
        }
        const port = (server.address() as AddressInfo).port;
        const host = listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
        log?.info({url, token: listen.token !== undefined, model: info.model, backend: info.backend, contextSize: info.contextSize}, "playground listening");
        return new PlaygroundServer(url, server, () => chat, runs);
    }

    /** Stops listening, ends open connections, unloads the chat's model. Idempotent. */
    public close(): Promise<void> {
        this.#closing ??= (async () => {
            const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
            this.#server.closeAllConnections();
            await closed;
            this.#runs?.close();
            const chat = await this.#chat()?.catch(() => undefined);
            await chat?.close();
        })();
        return this.#closing;
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) throw new PlaygroundHttpError(413, "BODY_TOO_LARGE", `the request body is over ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    try {
        return JSON.parse(text) as unknown;
    } catch (error) {
        throw new PlaygroundHttpError(400, "INVALID_JSON", `the request body is not JSON: ${(error as Error).message}`);
    }
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    response.statusCode = status;
    response.setHeader("Content-Type", type);
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
    if (response.headersSent) {
        response.end();
        return;
    }
    send(response, status, "application/json; charset=utf-8", JSON.stringify(value));
}
