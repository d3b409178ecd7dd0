import {createReadStream} from "node:fs";
import {stat} from "node:fs/promises";
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import type {AddressInfo, Socket} from "node:net";
import {pipeline} from "node:stream/promises";
import {localWebAuth, type Logger, type LocalWebMiddleware} from "@orchard/shared";
import {parseByteRange} from "./byte-range.ts";

export interface ModelServerOptions {
    /** The GGUF file served. */
    readonly path: string;
    /** URL path it is served at, e.g. `/models/<fingerprint>.gguf`. */
    readonly urlPath: string;
    /** Every request must present it (`Authorization: Bearer`). */
    readonly token: string;
    readonly host: string;
    /** 0: any free port. */
    readonly port: number;
    readonly logger?: Logger;
}

/**
 * One model file over HTTP for the fleet's workers: GET and HEAD of one path, with single byte
 * ranges (206, or 416 for a range it does not serve) so a cut download goes on where it stopped.
 * Plain node:http: a static file with one range needs ~40 lines, less than wiring a library's
 * options for it. Every request needs the token (localWebAuth: compared in constant time through
 * fixed-length digests, repeated wrong tokens locked out); the token itself is never logged.
 */
export class ModelServer implements AsyncDisposable {
    readonly #server: Server;
    readonly #sockets = new Set<Socket>();
    #closing: Promise<void> | undefined;

    private constructor(server: Server) {
        this.#server = server;
        server.on("connection", (socket) => {
            this.#sockets.add(socket);
            socket.once("close", () => this.#sockets.delete(socket));
        });
    }

    public static async start(options: ModelServerOptions): Promise<ModelServer> {
        const auth = localWebAuth({service: "model server", token: options.token, cookieName: "orchard_model_token"});
        const log = options.logger?.child({component: "model-server"});
        const server = createServer((request, response) => {
            serve(request, response, options, auth).catch((error: unknown) => {
                log?.warn({err: (error as Error).message}, "a model transfer ended early");
                response.destroy();
            });
        });
        const instance = new ModelServer(server);
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(options.port, options.host, () => {
                server.off("error", reject);
                resolve();
            });
        });
        return instance;
    }

    public get port(): number {
        return (this.#server.address() as AddressInfo).port;
    }

    /** Stops listening and cuts the transfers in progress (their workers resume from their partial file). Idempotent. */
    public close(): Promise<void> {
        this.#closing ??= new Promise<void>((resolve) => {
            this.#server.close(() => resolve());
            for (const socket of this.#sockets) socket.destroy();
        });
        return this.#closing;
    }

    public async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

async function serve(request: IncomingMessage, response: ServerResponse, options: ModelServerOptions, auth: LocalWebMiddleware): Promise<void> {
    let authorized = false;
    auth(request, response, () => (authorized = true));
    if (!authorized) return;
    if (request.method !== "GET" && request.method !== "HEAD") return plain(response, 405, "only GET and HEAD");
    if (new URL(request.url ?? "/", "http://server").pathname !== options.urlPath) return plain(response, 404, "no such model here");
    const {size} = await stat(options.path);
    const range = parseByteRange(request.headers.range, size);
    response.setHeader("Accept-Ranges", "bytes");
    response.setHeader("Content-Type", "application/octet-stream");
    if (range === "unsatisfiable") {
        response.setHeader("Content-Range", `bytes */${size}`);
        return plain(response, 416, `bad or unsatisfiable range (the file has ${size} bytes)`);
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    response.statusCode = range === undefined ? 200 : 206;
    if (range !== undefined) response.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    response.setHeader("Content-Length", String(Math.max(0, end - start + 1)));
    if (request.method === "HEAD" || end < start) {
        response.end();
        return;
    }
    await pipeline(createReadStream(options.path, {start, end, highWaterMark: 1 << 20}), response);
}

function plain(response: ServerResponse, status: number, message: string): void {
    response.statusCode = status;
    response.setHeader("Content-Type", "text/plain; charset=utf-8");
    response.removeHeader("Content-Length");
    response.end(`${message}\n`);
}
