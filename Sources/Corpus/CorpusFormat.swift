import Foundation

/// The layout of a corpus or queries file. Raw values are the names `densekit index --format` takes.
public enum CorpusFormat: String, Sendable, CaseIterable {
    /// MS MARCO TSV: `pid<TAB>text` or `qid<TAB>text`.
    case msmarcoTSV = "msmarco"
    /// BEIR JSON lines: `{"_id", "title", "text"}` (queries have no title).
    case beirJSONL = "beir"
    /// Plain JSON lines: `{"id", "text"}`, the id a string or an integer.
    case plainJSONL = "jsonl"

    /// The format of `path`, from its extension and, for `.jsonl`, the keys of its first object:
    /// `_id` means BEIR, `id` plain JSON lines. An empty `.jsonl` file is taken as plain.
    ///
    /// - Throws: `CorpusError` for standard input (it cannot be read twice: name the format),
    ///   an unknown extension, or a first line that is not a JSON object with one of the two keys.
    public static func detect(path: String) throws(CorpusError) -> CorpusFormat {
        guard path != "-" else {
            throw CorpusError(path: path, line: 0, reason: "the format of standard input cannot be detected; name it")
        }
        switch (path as NSString).pathExtension.lowercased() {
        case "tsv":
            return .msmarcoTSV
        case "jsonl":
            // Detection reads the first line; a pipe or FIFO would lose it.
            guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular else {
                throw CorpusError(path: path, line: 0, reason: "not a regular file (a pipe?): its format cannot be detected without consuming it; name it with --format")
            }
            return try detectJSONL(path: path)
        case "gz", "bz2", "xz", "zst", "zip":
            throw CorpusError(path: path, line: 0, reason: "compressed files are not read; decompress it first")
        case let other:
            let found = other.isEmpty ? "no extension" : "extension '.\(other)'"
            throw CorpusError(path: path, line: 0, reason: "cannot tell the format from \(found); expected .tsv (MS MARCO id<TAB>text) or .jsonl (BEIR {\"_id\",\"title\",\"text\"} or {\"id\",\"text\"})")
        }
    }

    /// Reads only the first non-blank line.
    private static func detectJSONL(path: String) throws(CorpusError) -> CorpusFormat {
        let lines = try LineReader(path: path)
        while let line = try lines.nextLine() {
            if PolicedLines.isBlank(line.text) { continue }
            let object: JSONLine
            do { object = try JSONLine(line.text, decoder: JSONDecoder()) } catch {
                throw CorpusError(path: path, line: line.number, reason: error.reason)
            }
            if object.fields["_id"] != nil { return .beirJSONL }
            if object.fields["id"] != nil { return .plainJSONL }
            throw CorpusError(path: path, line: line.number, reason: "the first object has neither \"_id\" (BEIR) nor \"id\" (plain JSON lines)")
        }
        return .plainJSONL
    }
}
