import DensekitEncoder
import DensekitIndex
import DensekitStore
import Foundation

/// An index folder of texts that a command holds in memory (an XMC label set; training
/// documents for kNN voting), built once with one tower of a dual encoder and reused by later
/// calls. It is an ordinary index folder (LMDB store + FAISS file, built by `IndexBuilder`, so
/// crash-safe and resumable, any factory string): a large label set is searched through FAISS
/// like passages are, and `densekit index verify` or `search` read it too.
public enum TextIndex {
    /// Which tower of the dual encoder embeds the texts.
    public enum Tower: String, Sendable {
        /// The query tower (XMC documents, for kNN voting: they are searched by documents).
        case query
        /// The passage tower (XMC labels).
        case passage
    }

    /// What the index holds, recorded as the manifest's source format: a folder built for
    /// other texts, another tower or other truncation is refused, not silently reused.
    public struct Contents: Sendable, Equatable {
        /// E.g. "xmc-labels name-and-text".
        public var kind: String
        public var tower: Tower
        public var maxLength: Int

        public init(kind: String, tower: Tower, maxLength: Int) {
            self.kind = kind
            self.tower = tower
            self.maxLength = maxLength
        }

        var recorded: String { "\(kind), \(tower.rawValue) tower, \(maxLength) tokens" }
    }

    /// Opens the index at `path`, first building (or finishing) it from `records` when it is
    /// not complete. A complete index is reused when it was built from the same file
    /// (`source`, checked line by line by its checksum), with the same model and `contents`.
    ///
    /// - Parameters:
    ///   - records: the texts in file order; `line` is the 1-based line each came from.
    ///   - progress: texts stored so far, while building.
    /// - Throws: `IndexError.invalid` or `StoreError.mismatch` for a folder built otherwise.
    public static func open(path: String, records: [(id: String, text: String, line: Int)], source: String, contents: Contents,
                            model: DualEncoder, factory: String = "Flat", encode: EncodeOptions,
                            progress: (Int) -> Void = { _ in }, log: (String) -> Void = { _ in }) throws -> Searcher {
        // Built in a scope of its own: the build lock is released before the folder is read.
        do {
            let folder = try IndexFolder(path: path, access: .create)
            if let existing = try folder.store.manifest(), try folder.store.count() > 0, existing.sourceFormat != contents.recorded {
                throw IndexError.invalid("\(path) holds \(existing.sourceFormat), not \(contents.recorded): give another folder, or delete this one")
            }
            var options = IndexBuilder.Options()
            options.factory = factory
            options.encode = encode
            options.encode.maxLength = contents.maxLength
            options.lexical = nil
            let encoder = contents.tower == .query ? model.query : model.passage
            let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
            let sourcePath = URL(fileURLWithPath: source).standardizedFileURL.path
            try builder.prepare(source: sourcePath, format: contents.recorded, model: try model.identity(), log: log)
            var iterator = records.makeIterator()
            // A complete index reads its records again only to check them (nothing is encoded).
            _ = try builder.build(sourcePath: source, next: { iterator.next().map { SourcePassage(id: $0.id, text: $0.text, line: $0.line) } },
                                  progress: progress, log: log)
        }
        return try Searcher(folder: IndexFolder(path: path, access: .readRepairingIfWritable, reads: .random), model: model.directory, log: log)
    }
}
