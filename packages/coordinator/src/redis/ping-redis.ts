import {connect} from "node:net";

/**
 * Whether a Redis answers PONG at host:port (after AUTH when a password is given), within
 * `timeoutMs`. Raw RESP over a socket: no client library retry logic in the way while a server
 * starts or loads its AOF (it answers -LOADING until ready, which counts as not ready).
 */
export function pingRedis(host: string, port: number, password: string | undefined, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        let answer = "";
        let settled = false;
        const done = (ok: boolean) => {
            if (settled) return;
            settled = true;
            socket.destroy();
            resolve(ok);
        };
        const socket = connect({host, port});
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("error", () => done(false));
        socket.on("data", (chunk) => {
            answer += chunk.toString("latin1");
            if (answer.includes("+PONG")) done(true);
            else if (answer.includes("-")) done(false);
        });
        socket.once("connect", () => {
            const auth = password === undefined ? "" : `*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n`;
            // with AUTH first, "+OK" precedes "+PONG"; an error answer ("-") means not usable
            socket.write(`${auth}*1\r\n$4\r\nPING\r\n`);
        });
    });
}
