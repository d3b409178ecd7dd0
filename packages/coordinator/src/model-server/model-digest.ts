import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import {mkdir, readFile, rename, stat, writeFile} from "node:fs/promises";
import {join, resolve} from "node:path";
import {modelDigestRecordSchema, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, type Logger} from "@orchard/shared";

/** Log a hashing progress line every this many bytes (a 26 GB model: every ~8 % or so). */
const PROGRESS_EVERY_BYTES = 2 * 1024 ** 3;

/**
 * The SHA-256 of a whole model file, read once and then remembered under `stateDir` keyed by the
 * file's path, size and modification time: a restarted coordinator does not hash 26 GB again,
 * and a file replaced in place (another size or mtime) is hashed anew. The record is this
 * machine's own, but read through a schema all the same.
 */
export async function modelSha256(path: string, stateDir: string, logger?: Logger): Promise<string> {
    const absolute = resolve(path);
    const info = await stat(absolute);
    const dir = join(stateDir, "model-digests");
    const recordPath = join(dir, `${createHash("sha256").update(absolute).digest("hex")}.json`);
    const cached = modelDigestRecordSchema.safeParse(await readFile(recordPath, "utf8").then((text) => JSON.parse(text) as unknown, () => undefined));
    if (cached.success && cached.data.path === absolute && cached.data.sizeBytes === info.size && cached.data.mtimeMs === info.mtimeMs) return cached.data.sha256;
    logger?.info({model: absolute, sizeBytes: info.size}, "computing the model's SHA-256 (once; remembered in the state folder)");
    const hash = createHash("sha256");
    let done = 0;
    let next = PROGRESS_EVERY_BYTES;
    for await (const chunk of createReadStream(absolute, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        done += chunk.length;
        if (done >= next) {
            logger?.info({hashedBytes: done, sizeBytes: info.size}, `SHA-256: ${Math.floor((100 * done) / Math.max(1, info.size))}%`);
            next += PROGRESS_EVERY_BYTES;
        }
    }
    const sha256 = hash.digest("hex");
    await mkdir(dir, {recursive: true, mode: PRIVATE_DIR_MODE});
    // written aside and renamed: a crash mid-write leaves the old record or none, never half of one
    const temp = `${recordPath}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({v: 1, path: absolute, sizeBytes: info.size, mtimeMs: info.mtimeMs, sha256}), {mode: PRIVATE_FILE_MODE});
    await rename(temp, recordPath);
    return sha256;
}
