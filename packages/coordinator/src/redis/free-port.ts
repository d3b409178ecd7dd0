import {createServer} from "node:net";

/** A TCP port free on `host` right now (the OS picks it); the caller binds it soon after. */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.once("error", reject);
        server.listen(0, host, () => {
            const address = server.address();
            const port = typeof address === "object" && address !== null ? address.port : 0;
            server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
        });
    });
}

/** Whether `port` can be bound on `host` now. */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const server = createServer();
        server.unref();
        server.once("error", () => resolve(false));
        server.listen(port, host, () => server.close(() => resolve(true)));
    });
}
