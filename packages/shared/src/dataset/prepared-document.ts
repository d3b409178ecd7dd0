import type {InputDocument} from "../schemas/input-document-schema.ts";

/** An input document validated and ready for prompting: what the engine and the merger need. */
export interface PreparedDocument {
    /** 0-based index among the documents of its file (blank lines do not count). */
    readonly index: number;
    /** 1-based line number in the input file. */
    readonly lineNumber: number;
    /** Byte offset of the line in the input file (set by readDataset; lets a reader seek to a shard). */
    readonly byteOffset?: number;
    readonly doc: InputDocument;
    /** The document stripped and cut to the maximum length, as prompted and as written. */
    readonly documentText: string;
    /** The instruction used for this document. */
    readonly promptText: string;
    /** The whole input line, for kinds whose output keeps every field (generation); absent for the re-ask's lines. */
    readonly fields?: Readonly<Record<string, unknown>>;
}
