import {OrchardError} from "../errors/orchard-error.ts";
import {readSecretFile} from "./secret-file.ts";

/**
 * The Redis URL held in `path` (`--redis-url-file`): one line, surrounding white space trimmed.
 * A worker installed as a service reads its URL here so that the password is in neither the
 * plist/unit nor the process list (`orchard worker install-service` writes the file, mode 600).
 * A file that is missing, unreadable, empty, of several lines or not a redis:// or rediss:// URL
 * is an INVALID_ARGUMENT naming the file (never the URL: it holds the password).
 */
export function readRedisUrlFile(path: string, flag = "--redis-url-file"): string {
    const url = readSecretFile(path, flag, {empty: "the Redis URL, redis://:password@host:port", alone: "the Redis URL"});
    checkRedisUrl(url, `${flag} ${path}`);
    return url;
}

/** Throws INVALID_ARGUMENT (naming `where`, never the URL) unless `url` is a redis:// or rediss:// URL. */
export function checkRedisUrl(url: string, where: string): void {
    let protocol: string;
    try {
        protocol = new URL(url).protocol;
    } catch {
        throw new OrchardError("INVALID_ARGUMENT", `${where}: not a URL (expected redis://[:password@]host:port)`);
    }
    if (protocol !== "redis:" && protocol !== "rediss:")
        throw new OrchardError("INVALID_ARGUMENT", `${where}: a ${protocol}// URL; expected redis:// or rediss://`);
}
