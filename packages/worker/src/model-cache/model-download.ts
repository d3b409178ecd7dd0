import {createHash, type Hash} from "node:crypto";
import {createReadStream} from "node:fs";
import {mkdir, open, rename, stat, statfs, truncate, unlink} from "node:fs/promises";
import {join} from "node:path";
import {formatByteSize, modelFingerprint, OrchardError, type Logger, type ModelSource} from "@orchard/shared";

/** Free bytes for an unprivileged user on the file system of `dir`. */
export type FreeDiskBytes = (dir: string) => Promise<number>;

export const systemFreeDiskBytes: FreeDiskBytes = async (dir) => {
    const info = await statfs(dir);
    return info.bavail * info.bsize;
};

export interface DownloadModelOptions {
    /** Where and what to download (read from Redis through modelSourceSchema). */
    readonly source: ModelSource;
    /** The model cache folder; the file is `<fingerprint>.gguf` in it (cachedModelPath). */
    readonly dir: string;
    /** Transfers tried before giving up; each goes on from the partial file. Default 5. */
    readonly attempts?: number;
    /** Pause before a new attempt, in ms, times the attempt number. Default 1,000. */
    readonly retryDelayMs?: number;
    /** Default: statfs of `dir`. */
    readonly freeDiskBytes?: FreeDiskBytes;
    readonly onProgress?: (progress: {readonly downloadedBytes: number; readonly totalBytes: number}) => void;
    /** Stops the transfer; the partial file stays for next time. */
    readonly signal?: AbortSignal;
    readonly logger?: Logger;
}

/** The cache's file of a model: named after its fingerprint (checked hex), never after anything a server says. */
export function cachedModelPath(dir: string, fingerprint: string): string {
    if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new OrchardError("RECORD_INVALID", `"${fingerprint.slice(0, 80)}" is not a model fingerprint`);
    return join(dir, `${fingerprint}.gguf`);
}

/**
 * Downloads a served model into the cache: into `<fingerprint>.gguf.part`, continued with a Range
 * request from wherever an earlier transfer (this call's, or a killed process's) stopped, hashed
 * as it arrives (what was already there is hashed once, from disk). The complete file must have
 * the source's SHA-256 AND the fingerprint, else it is deleted (DOWNLOAD_FAILED); only then is it
 * renamed into place, so `<fingerprint>.gguf` is always a verified model. A disk without room for
 * what is left is a DISK_FULL before anything is transferred.
 */
export async function downloadModel(options: DownloadModelOptions): Promise<string> {
    const {source} = options;
    const target = cachedModelPath(options.dir, source.fingerprint);
    const part = `${target}.part`;
    await mkdir(options.dir, {recursive: true});
    let offset = await stat(part).then((info) => info.size, () => 0);
    if (offset > source.sizeBytes) {
        // not a prefix of this file: start again
        await truncate(part, 0);
        offset = 0;
    }
    const free = await (options.freeDiskBytes ?? systemFreeDiskBytes)(options.dir);
    if (free < source.sizeBytes - offset)
        throw new OrchardError("DISK_FULL",
            `the model (${formatByteSize(source.sizeBytes)}) needs ${formatByteSize(source.sizeBytes - offset)} more in ${options.dir}, which has ${formatByteSize(free)} free: free some space or choose another --model-cache`);
    const log = options.logger?.child({component: "model-download"});
    // the bytes in the partial file and their hash, always in step: a transfer appends to both
    const state: TransferState = {offset, hash: createHash("sha256")};
    if (offset > 0) {
        log?.info({partBytes: offset, sizeBytes: source.sizeBytes}, "going on with a partial download");
        await hashFile(part, state.hash);
    }
    const attempts = options.attempts ?? 5;
    for (let attempt = 1; state.offset < source.sizeBytes; attempt++) {
        try {
            await transferFrom(source, part, state, options);
            if (state.offset < source.sizeBytes)
                throw new OrchardError("DOWNLOAD_FAILED", `the transfer ended at ${state.offset} of ${source.sizeBytes} bytes`, {retryable: true});
        } catch (error) {
            if (options.signal?.aborted === true) throw error;
            const retryable = !(error instanceof OrchardError) || error.retryable;
            if (!retryable) throw error;
            if (attempt >= attempts)
                throw new OrchardError("DOWNLOAD_FAILED",
                    `downloading the model from ${source.url} failed ${attempt} times (last: ${(error as Error).message}); ${state.offset} bytes kept in ${part} for next time`, {cause: error});
            log?.warn({attempt, offset: state.offset, err: (error as Error).message}, "the model transfer was cut; going on from the partial file");
            await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 1000) * attempt));
        }
    }
    await verify(part, source, state.hash.digest("hex"));
    await rename(part, target);
    return target;
}

interface TransferState {
    offset: number;
    hash: Hash;
}

/**
 * One GET from `state.offset` (a Range request when there is a partial file), appending to `part`
 * and feeding the hash. A server that answers 200 to a Range request sends the whole file: the
 * partial file is started again, with a new hash.
 */
async function transferFrom(source: ModelSource, part: string, state: TransferState, {onProgress, signal}: DownloadModelOptions): Promise<void> {
    const response = await fetch(source.url, {
        ...(signal === undefined ? {} : {signal}),
        headers: {authorization: `Bearer ${source.token}`, ...(state.offset > 0 ? {range: `bytes=${state.offset}-`} : {})},
        redirect: "error"
    });
    if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new OrchardError("DOWNLOAD_FAILED", `the model server ${source.url} refused this worker (${response.status}): its token in Redis is not the one it serves with`);
    }
    if (response.status === 200 && state.offset > 0) {
        await truncate(part, 0);
        state.offset = 0;
        state.hash = createHash("sha256");
    } else if (response.status === 206) {
        const range = /^bytes (\d+)-\d+\/\d+$/.exec(response.headers.get("content-range") ?? "");
        if (range === null || Number(range[1]) !== state.offset) {
            await response.body?.cancel();
            throw new OrchardError("DOWNLOAD_FAILED", `the model server answered another range than bytes=${state.offset}- (${response.headers.get("content-range") ?? "none"})`, {retryable: true});
        }
    } else if (response.status !== 200) {
        await response.body?.cancel();
        throw new OrchardError("DOWNLOAD_FAILED", `the model server answered ${response.status} ${response.statusText}`, {retryable: response.status >= 500 || response.status === 429});
    }
    if (response.body === null) throw new OrchardError("DOWNLOAD_FAILED", "the model server sent no body", {retryable: true});
    const handle = await open(part, "a");
    try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
            // written before it is hashed: a failed write leaves the hash in step with the file
            await handle.write(chunk);
            state.hash.update(chunk);
            state.offset += chunk.length;
            onProgress?.({downloadedBytes: state.offset, totalBytes: source.sizeBytes});
        }
        await handle.sync();
    } finally {
        await handle.close();
    }
}

/** The whole file has the source's SHA-256 and fingerprint, or it is deleted and the download refused. */
async function verify(part: string, source: ModelSource, sha256: string): Promise<void> {
    let problem: string | undefined;
    if (sha256 !== source.sha256) problem = `its SHA-256 is ${sha256}, not the ${source.sha256} the server recorded`;
    else {
        const fingerprint = await modelFingerprint(part).then((found) => found.fingerprint, (error: unknown) => `unreadable (${(error as Error).message})`);
        if (fingerprint !== source.fingerprint) problem = `its fingerprint is ${fingerprint}, not the run's ${source.fingerprint}`;
    }
    if (problem === undefined) return;
    await unlink(part).catch(() => undefined);
    throw new OrchardError("DOWNLOAD_FAILED", `the model downloaded from ${source.url} is refused and deleted: ${problem}`);
}

async function hashFile(path: string, hash: Hash): Promise<void> {
    for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) hash.update(chunk);
}
