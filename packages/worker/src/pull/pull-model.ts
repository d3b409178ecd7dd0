import {mkdir} from "node:fs/promises";
import {modelFingerprint, OrchardError, type ModelFingerprint} from "@orchard/shared";

export interface PullModelOptions {
    /** An http(s) URL of a GGUF file, or `hf:<user>/<repo>:<quant>` / `hf:<user>/<repo>/<file>` (node-llama-cpp's URIs). */
    readonly uri: string;
    /** Folder the file goes to. */
    readonly dir: string;
    /** File name in `dir`; default: the name the server gives. */
    readonly fileName?: string | undefined;
    readonly onProgress?: (status: {downloadedBytes: number; totalBytes: number}) => void;
}

/**
 * Downloads a model with node-llama-cpp's downloader (parallel range requests; it keeps a partial
 * file to go on from after an interruption), then fingerprints it:
 * the fingerprint is what runs and workers match on. A URI that cannot be fetched is a
 * MODEL_NOT_FOUND naming it; a file that is not a GGUF, MODEL_INVALID.
 */
export async function pullModel(options: PullModelOptions): Promise<{path: string; fingerprint: ModelFingerprint}> {
    await mkdir(options.dir, {recursive: true});
    const {createModelDownloader} = await import("node-llama-cpp");
    let path: string;
    try {
        const downloader = await createModelDownloader({
            modelUri: options.uri, dirPath: options.dir, skipExisting: true, deleteTempFileOnCancel: false, showCliProgress: false,
            ...(options.fileName === undefined ? {} : {fileName: options.fileName}),
            ...(options.onProgress === undefined ? {} : {onProgress: ({downloadedSize, totalSize}) => options.onProgress?.({downloadedBytes: downloadedSize, totalBytes: totalSize})})
        });
        path = await downloader.download();
    } catch (error) {
        throw new OrchardError("MODEL_NOT_FOUND", `cannot download ${options.uri}: ${(error as Error).message}`, {cause: error});
    }
    return {path, fingerprint: await modelFingerprint(path)};
}
