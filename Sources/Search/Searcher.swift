import DensekitEncoder
import DensekitIndex
import DensekitStore
import Foundation

/// One retrieved passage.
public struct Hit: Sendable, Equatable {
    /// 1-based rank.
    public var rank: Int
    /// The passage's id in the corpus.
    public var id: String
    /// Inner product (higher is better) or squared L2 distance (lower is better).
    public var score: Float
    /// The passage text (empty when not asked for).
    public var text: String

    public init(rank: Int, id: String, score: Float, text: String) {
        self.rank = rank
        self.id = id
        self.score = score
        self.text = text
    }
}

/// Queries in, ranked passages out: encodes queries with the index's own model (its query tower,
/// for a two-tower model), searches the FAISS index and maps FAISS labels back to corpus ids
/// through the store.
public final class Searcher: @unchecked Sendable {
    public let folder: IndexFolder
    /// The query encoder.
    public let encoder: SentenceEncoder
    public let index: FaissIndex
    public let manifest: StoreManifest

    /// Opens the index folder and its model.
    ///
    /// - Parameters:
    ///   - model: a model folder to use instead of the recorded one; refused unless it is the
    ///     same model (weights fingerprint, dimension, pooling, normalisation).
    ///   - log: warnings (e.g. an index file rebuilt from the store).
    public init(folder: IndexFolder, model: URL? = nil, log: (String) -> Void) throws {
        self.folder = folder
        let manifest = try folder.manifest()
        self.manifest = manifest
        let modelURL = model ?? URL(fileURLWithPath: manifest.model.path)
        let pair: DualEncoder
        do {
            pair = try DualEncoder.load(directory: modelURL)
        } catch {
            throw IndexError.invalid("\(folder.path) was built with the model at \(manifest.model.path), which cannot be loaded (\(error)); pass --model with the same model")
        }
        encoder = pair.query
        let identity = try pair.identity()
        if let difference = manifest.model.difference(from: identity) {
            throw StoreError.mismatch(path: folder.path, reason: "query model \(modelURL.path) (weights \(identity.weightsFingerprint), dimension \(identity.dimension), \(identity.pooling) pooling\(identity.normalized ? ", normalized" : "")) differs from the index's model \(manifest.model.path) (weights \(manifest.model.weightsFingerprint), dimension \(manifest.model.dimension), \(manifest.model.pooling) pooling\(manifest.model.normalized ? ", normalized" : "")) in \(difference)")
        }
        index = try folder.openVectorIndex(log: log)
        if let warning = try Self.coverageWarning(folder) { log(warning) }
    }

    /// What a search of `folder` misses, when its build is not finished (running or killed);
    /// nil for a complete index.
    public static func coverageWarning(_ folder: IndexFolder) throws -> String? {
        let complete = try folder.store.progress().complete
        guard !complete || folder.beingBuiltBy != nil else { return nil }
        let state = folder.beingBuiltBy.map { "is being built (PID \($0))" }
            ?? "is incomplete (its build stopped before the end of the corpus; run the same `densekit index build` to finish it)"
        return "warning: \(folder.path) \(state): searching the \(try folder.store.count()) passages stored so far"
    }

    /// The `k` best passages for each query, best first.
    ///
    /// - Parameters:
    ///   - includeText: also fetch passage texts (for display; run files need only ids).
    ///   - progress: called with the number of queries done, after each chunk.
    ///   - knobs: nprobe / efSearch for these queries alone (the shared index is not changed).
    ///   - chunk: queries encoded and searched together.
    public func search(_ queries: [String], k: Int, includeText: Bool = false, encode options: EncodeOptions = EncodeOptions(),
                       knobs: SearchKnobs = SearchKnobs(), chunk: Int = 256, progress: (Int) -> Void = { _ in }) throws -> [[Hit]] {
        var results: [[Hit]] = []
        results.reserveCapacity(queries.count)
        let chunk = max(1, chunk)
        var start = 0
        while start < queries.count {
            let end = min(start + chunk, queries.count)
            let embeddings = encoder.encode(Array(queries[start..<end]), options: options)
            results += try embeddings.values.withUnsafeBufferPointer { buffer in
                try search(embedded: buffer.baseAddress!, count: end - start, k: k, includeText: includeText, knobs: knobs)
            }
            start = end
            progress(start)
        }
        return results
    }

    /// The `k` best passages for each of `count` query vectors (made by `encoder`), best first.
    public func search(embedded vectors: UnsafePointer<Float>, count: Int, k: Int, includeText: Bool = false,
                       knobs: SearchKnobs = SearchKnobs()) throws -> [[Hit]] {
        let (scores, labels) = try index.search(vectors, count: count, k: k, knobs: knobs)
        let passages = try folder.store.passages(internalIds: labels.map(Int.init), includeText: includeText)
        return (0..<count).map { q in
            var hits: [Hit] = []
            for r in 0..<k {
                guard let passage = passages[q * k + r] else { continue }
                hits.append(Hit(rank: hits.count + 1, id: passage.id, score: scores[q * k + r], text: passage.text))
            }
            return hits
        }
    }
}
