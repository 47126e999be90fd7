import DensekitEncoder
import DensekitIndex
import DensekitStore
import Foundation

/// Which first stage: dense (the FAISS index), bm25 (the lexical index) or hybrid (both, fused).
public enum RetrieverKind: String, Codable, Sendable, CaseIterable {
    case dense, bm25, hybrid
}

/// A first stage: queries in, ranked hits out; and the score it gives chosen passages (the
/// positives a miner compares its candidates with).
public protocol Retriever: Sendable {
    /// The `k` best hits per query, best first.
    func search(_ queries: [String], k: Int, includeText: Bool, progress: (Int) -> Void) throws -> [[Hit]]
    /// For each query, the score of each of its `passageIds` (nil for an id not in the index).
    func scores(_ queries: [String], passageIds: [[String]]) throws -> [[Float?]]
}

extension Searcher: Retriever {
    public func search(_ queries: [String], k: Int, includeText: Bool, progress: (Int) -> Void) throws -> [[Hit]] {
        try search(queries, k: k, includeText: includeText, encode: EncodeOptions(), progress: progress)
    }

    /// Inner products (or negated squared distances, for an l2 index) of the query embeddings
    /// with the stored vectors of the passages: the scores the index would give them.
    public func scores(_ queries: [String], passageIds: [[String]]) throws -> [[Float?]] {
        let embeddings = encoder.encode(queries, options: EncodeOptions())
        let dimension = embeddings.dimension
        var vector = [Float](repeating: 0, count: dimension)
        let l2 = index.metric == .l2
        return try passageIds.enumerated().map { row, ids in
            let query = embeddings[row]
            return try ids.map { id -> Float? in
                guard let internalId = try folder.store.internalId(of: id) else { return nil }
                try vector.withUnsafeMutableBufferPointer { try folder.store.readVectors(internalId..<(internalId + 1), dimension: dimension, into: $0.baseAddress!) }
                var score: Float = 0
                for j in 0..<dimension { score += l2 ? -(query[j] - vector[j]) * (query[j] - vector[j]) : query[j] * vector[j] }
                return score
            }
        }
    }
}

extension LexicalSearcher: Retriever {
    public func search(_ queries: [String], k: Int, includeText: Bool, progress: (Int) -> Void) throws -> [[Hit]] {
        try search(queries, k: k, includeText: includeText, threads: EncodeOptions.defaultThreads, progress: progress, log: { _ in })
    }

    /// BM25 scores of the passages for each query (0 when no query term occurs in one).
    public func scores(_ queries: [String], passageIds: [[String]]) throws -> [[Float?]] {
        try zip(queries, passageIds).map { query, ids in
            let internalIds = try ids.map { try folder.store.internalId(of: $0) }
            let scored = try index.scores(query, ids: internalIds.compactMap { $0 })
            return internalIds.map { $0.map { scored[$0] ?? 0 } }
        }
    }
}

/// Dense and BM25 retrieval fused (`RankFusion`): each retriever gives `fusion.depth`
/// candidates per query, the fused list is cut to k.
public struct HybridSearcher: Retriever {
    public let dense: Searcher
    public let lexical: LexicalSearcher
    public let fusion: RankFusion
    public var encode: EncodeOptions
    public var threads: Int
    /// The dense side's nprobe / efSearch.
    public var knobs: SearchKnobs

    public init(dense: Searcher, lexical: LexicalSearcher, fusion: RankFusion, encode: EncodeOptions = EncodeOptions(), threads: Int = EncodeOptions.defaultThreads,
                knobs: SearchKnobs = SearchKnobs()) {
        self.dense = dense
        self.lexical = lexical
        self.fusion = fusion
        self.encode = encode
        self.threads = threads
        self.knobs = knobs
    }

    public func search(_ queries: [String], k: Int, includeText: Bool, progress: (Int) -> Void) throws -> [[Hit]] {
        try search(queries, k: k, includeText: includeText, progress: progress, log: { _ in })
    }

    /// As `search`, with BM25's warnings (queries without an indexable term) through `log`.
    public func search(_ queries: [String], k: Int, includeText: Bool, progress: (Int) -> Void, log: (String) -> Void) throws -> [[Hit]] {
        let depth = max(k, fusion.depth)
        let denseHits = try dense.search(queries, k: depth, includeText: includeText, encode: encode, knobs: knobs, progress: progress)
        let lexicalHits = try lexical.search(queries, k: depth, includeText: includeText, threads: threads, log: log)
        return zip(denseHits, lexicalHits).map { fusion.fuse(hits: [$0, $1], k: k) }
    }

    /// Fused scores have no meaning outside one fused list: margins against them are refused.
    public func scores(_ queries: [String], passageIds: [[String]]) throws -> [[Float?]] {
        throw IndexError.invalid("hybrid retrieval gives ranks, not scores that compare across lists: use margins and score limits with --retriever dense or bm25, or --rescore")
    }
}
