import DensekitIndex
import Foundation

/// How a negatives file was mined, written beside it (`FILE.mining.json`) by `densekit mine` so
/// that a training run refreshing its negatives (`train dual --refresh-every`) mines again the
/// same way with the model as it is.
public struct MiningRecipe: Codable, Sendable, Equatable {
    public var retriever: RetrieverKind
    public var options: HardNegativeMiner.Options
    /// The cross-encoder folder the candidates were rescored with, if any.
    public var rescore: String?

    public init(retriever: RetrieverKind, options: HardNegativeMiner.Options, rescore: String? = nil) {
        self.retriever = retriever
        self.options = options
        self.rescore = rescore
    }

    /// Where the recipe of the negatives file `negatives` is.
    public static func path(besides negatives: String) -> String { negatives + ".mining.json" }

    /// Writes this recipe beside the negatives file `negatives`.
    public func write(besides negatives: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(besides: negatives)), options: .atomic)
    }

    /// The recipe beside the negatives file `negatives`; nil when it has none (a file from
    /// elsewhere, or standard output).
    /// - Throws: `IndexError.invalid` naming the file when it exists but cannot be read.
    public static func read(besides negatives: String) throws -> MiningRecipe? {
        let path = Self.path(besides: negatives)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(MiningRecipe.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw IndexError.invalid("\(path): not a mining recipe written by densekit mine (\(error))")
        }
    }
}
