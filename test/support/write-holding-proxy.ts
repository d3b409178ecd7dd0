import {createServer, connect, type Server, type Socket} from "node:net";

/**
 * A TCP proxy in front of Redis that, once a client sends a chunk containing `marker`, holds that
 * chunk and everything the client sends after it until `release()`: a write delayed on the wire at
 * the moment the test chooses (a frozen worker, a network cut that ioredis rides out by resending).
 * Replies from Redis pass through unchanged.
 */
export class WriteHoldingProxy {
    readonly #server: Server;
    readonly #targetPort: number;
    readonly #marker: string;
    readonly #sockets = new Set<Socket>();
    readonly #held: {upstream: Socket; chunks: Buffer[]}[] = [];
    #holding = true;
    #heldOnce: (() => void) | undefined;
    /** Resolves when a chunk with the marker has been held. */
    public readonly held: Promise<void>;

    private constructor(targetPort: number, marker: string) {
        this.#targetPort = targetPort;
        this.#marker = marker;
        this.held = new Promise((resolve) => (this.#heldOnce = resolve));
        this.#server = createServer((client) => this.#pipe(client));
    }

    /** Listens on a free port of 127.0.0.1, in front of Redis at `targetPort`. */
    public static async start(targetPort: number, marker: string): Promise<WriteHoldingProxy> {
        const proxy = new WriteHoldingProxy(targetPort, marker);
        await new Promise<void>((resolve, reject) => {
            proxy.#server.once("error", reject);
            proxy.#server.listen(0, "127.0.0.1", () => resolve());
        });
        return proxy;
    }

    public get port(): number {
        const address = this.#server.address();
        if (address === null || typeof address === "string") throw new Error("the proxy is not listening");
        return address.port;
    }

    /** Sends what was held, in order, and passes everything through from now on. */
    public release(): void {
        this.#holding = false;
        for (const {upstream, chunks} of this.#held.splice(0)) for (const chunk of chunks.splice(0)) upstream.write(chunk);
    }

    public async close(): Promise<void> {
        for (const socket of this.#sockets) socket.destroy();
        await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    }

    #pipe(client: Socket): void {
        const upstream = connect(this.#targetPort, "127.0.0.1");
        this.#sockets.add(client).add(upstream);
        let held: Buffer[] | undefined;
        client.on("data", (chunk: Buffer) => {
            if (held === undefined && this.#holding && chunk.includes(this.#marker)) {
                held = [];
                this.#held.push({upstream, chunks: held});
                this.#heldOnce?.();
            }
            // held until release(); once released, `held` is emptied and its entry gone: pass through
            if (held !== undefined && this.#holding) held.push(chunk);
            else upstream.write(chunk);
        });
        upstream.on("data", (chunk: Buffer) => client.write(chunk));
        const end = () => {
            client.destroy();
            upstream.destroy();
            this.#sockets.delete(client);
            this.#sockets.delete(upstream);
        };
        client.on("close", end).on("error", end);
        upstream.on("close", end).on("error", end);
    }
}
