import Foundation

/// A BEIR dataset folder: `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv`.
public struct BEIRFolder: Sendable, Equatable {
    /// The folder's path as given.
    public let path: String
    /// `<folder>/corpus.jsonl`.
    public let corpus: String
    /// `<folder>/queries.jsonl`.
    public let queries: String
    /// Qrels file per split name (`test`, `dev`, `train`: the file name without `.tsv`).
    public let qrels: [String: String]

    /// Whether `path` is a folder holding corpus.jsonl, queries.jsonl and at least one qrels/*.tsv.
    public static func isBEIRFolder(_ path: String) -> Bool {
        (try? BEIRFolder(path: path)) != nil
    }

    /// The BEIR layout of the folder `path`.
    /// - Throws: `CorpusError` (line 0) saying which part is missing.
    public init(path: String) throws(CorpusError) {
        let files = FileManager.default
        var isFolder: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw CorpusError(path: path, line: 0, reason: "not a folder")
        }
        let folder = URL(fileURLWithPath: path)
        var missing: [String] = []
        let corpus = folder.appendingPathComponent("corpus.jsonl").path
        let queries = folder.appendingPathComponent("queries.jsonl").path
        if !files.fileExists(atPath: corpus) { missing.append("corpus.jsonl") }
        if !files.fileExists(atPath: queries) { missing.append("queries.jsonl") }
        let qrelsFolder = folder.appendingPathComponent("qrels")
        let names = (try? files.contentsOfDirectory(atPath: qrelsFolder.path)) ?? []
        var qrels: [String: String] = [:]
        for name in names where name.hasSuffix(".tsv") {
            qrels[String(name.dropLast(4))] = qrelsFolder.appendingPathComponent(name).path
        }
        if qrels.isEmpty { missing.append("qrels/*.tsv") }
        guard missing.isEmpty else {
            throw CorpusError(path: path, line: 0, reason: "not a BEIR folder: missing \(missing.joined(separator: ", "))")
        }
        self.path = path
        self.corpus = corpus
        self.queries = queries
        self.qrels = qrels
    }
}
