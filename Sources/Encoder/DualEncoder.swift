import Foundation

/// The encoders a retrieval model embeds queries and passages with: one model for both (tied,
/// the sentence-transformers way), or two towers of the same architecture trained apart (DPR,
/// Tevatron's `--untie_encoder`).
///
/// A two-tower model is a folder holding two sentence-transformers folders, `query_model/` and
/// `passage_model/` (Tevatron's names), and `towers.json` naming them:
///
///     {"query": "query_model", "passage": "passage_model"}
///
/// Each tower loads on its own anywhere a model folder is expected; loading the parent folder
/// with `load(directory:)` gives the pair, which is what `index build` (passages) and `search`
/// (queries) use.
public struct DualEncoder: @unchecked Sendable {
    /// The file that marks a two-tower folder.
    public static let towersFile = "towers.json"
    /// Default sub-folder names.
    public static let queryFolder = "query_model", passageFolder = "passage_model"

    /// Embeds queries.
    public let query: SentenceEncoder
    /// Embeds passages (the same object as `query` when tied).
    public let passage: SentenceEncoder
    /// The folder loaded from: the model's own folder when tied, else the towers' parent.
    public let directory: URL?

    /// One model for queries and passages.
    public init(tied model: SentenceEncoder) {
        query = model
        passage = model
        directory = model.directory
    }

    /// Two towers; `directory` is the folder holding both.
    ///
    /// - Throws: `ModelError.invalidConfiguration` when the towers' vectors could not be compared
    ///   (different dimension, pooling or normalisation).
    public init(query: SentenceEncoder, passage: SentenceEncoder, directory: URL?) throws(ModelError) {
        let path = directory?.path ?? "two-tower model"
        guard query.dimension == passage.dimension else {
            throw .invalidConfiguration(path: path, reason: "query tower has dimension \(query.dimension), passage tower \(passage.dimension)")
        }
        guard query.pooling == passage.pooling else {
            throw .invalidConfiguration(path: path, reason: "query and passage towers pool differently (\(query.pooling.mode.rawValue) vs \(passage.pooling.mode.rawValue), or normalisation)")
        }
        self.query = query
        self.passage = passage
        self.directory = directory
    }

    /// Whether queries and passages go through the same model.
    public var isTied: Bool { query === passage }

    /// Loads a two-tower folder, or a single model folder as a tied pair (see `ModelFolder`).
    public static func load(directory: URL, pooling override: PoolingConfiguration? = nil) throws(ModelError) -> DualEncoder {
        try ModelFolder(directory).loadDualEncoder(pooling: override)
    }

    /// The query and passage folders `towers.json` names.
    static func towerFolders(_ folder: ModelFolder) throws(ModelError) -> (query: ModelFolder, passage: ModelFolder) {
        let file = folder.file(towersFile)
        let names: [String: String]
        let data = try readJSONData(file)
        do {
            names = try JSONDecoder().decode([String: String].self, from: data)
        } catch {
            throw .invalidConfiguration(path: file.path, reason: "expected {\"query\": \"query_model\", \"passage\": \"passage_model\"}: \(error)")
        }
        func tower(_ role: String) throws(ModelError) -> ModelFolder {
            guard let name = names[role], !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
                throw .invalidConfiguration(path: file.path, reason: "'\(role)' must name a sub-folder")
            }
            return ModelFolder(folder.file(name))
        }
        return (try tower("query"), try tower("passage"))
    }

    /// Loads both towers of a two-tower folder.
    static func loadTowers(_ folder: ModelFolder, pooling override: PoolingConfiguration?) throws(ModelError) -> DualEncoder {
        let towers = try towerFolders(folder)
        return try DualEncoder(query: try SentenceEncoder.load(directory: towers.query.url, pooling: override),
                               passage: try SentenceEncoder.load(directory: towers.passage.url, pooling: override), directory: folder.url)
    }

    /// Writes a two-tower folder: both towers (with `queryParameters` and `passageParameters` in
    /// place of their own weights when given), then `towers.json` last, so a folder is not taken
    /// for a two-tower model before both towers are complete.
    public func save(to folder: URL, queryParameters: BertParameters? = nil, passageParameters: BertParameters? = nil) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try query.save(to: folder.appendingPathComponent(Self.queryFolder), parameters: queryParameters)
        try passage.save(to: folder.appendingPathComponent(Self.passageFolder), parameters: passageParameters)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(["query": Self.queryFolder, "passage": Self.passageFolder])
            .write(to: folder.appendingPathComponent(Self.towersFile), options: .atomic)
    }
}
