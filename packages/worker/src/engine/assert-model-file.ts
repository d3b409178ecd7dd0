import {open, stat} from "node:fs/promises";
import {OrchardError} from "@orchard/shared";

/** MODEL_NOT_FOUND or MODEL_INVALID (no GGUF magic) before llama.cpp sees the file, with the path in the message. */
export async function assertModelFile(modelPath: string): Promise<void> {
    let size: number;
    try {
        const info = await stat(modelPath);
        if (!info.isFile()) throw new Error("not a file");
        size = info.size;
    } catch (error) {
        throw new OrchardError("MODEL_NOT_FOUND", `${modelPath}: model file not found`, {cause: error});
    }
    const handle = await open(modelPath, "r");
    try {
        const magic = Buffer.alloc(4);
        await handle.read(magic, 0, 4, 0);
        if (size < 4 || magic.toString("latin1") !== "GGUF")
            throw new OrchardError("MODEL_INVALID", `${modelPath}: not a GGUF file (it does not start with the GGUF magic)`);
    } finally {
        await handle.close();
    }
}
