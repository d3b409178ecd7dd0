import {once} from "node:events";
import type {Writable} from "node:stream";
import {documentProvenance, FleetKeys, readRunProvenance, type Logger} from "@orchard/shared";
import type {Redis} from "ioredis";

/**
 * `orchard provenance RUN`: one JSON line per document of the run, in input order, naming the
 * worker and machine that computed it (null for documents no merged shard holds: failed, or not
 * merged yet). Records that fail their schema are left out with a warning (their documents read null).
 */
export async function writeRunProvenance(options: {redis: Redis; keyPrefix: string; runId: string; output: Writable; logger?: Logger}): Promise<number> {
    const {spec, shards} = await readRunProvenance(options.redis, new FleetKeys(options.keyPrefix), options.runId,
        (error) => options.logger?.warn({code: error.code, err: error.message}, "provenance record left out"));
    let lines = 0;
    for await (const document of documentProvenance(spec, shards)) {
        if (!options.output.write(`${JSON.stringify(document)}\n`)) await once(options.output, "drain");
        lines++;
    }
    return lines;
}
