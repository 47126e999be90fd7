import DensekitCorpus
import DensekitEncoder
import DensekitStore
import Foundation

/// Second-stage ranking: a cross-encoder rescores each query's top `depth` passages of a first
/// stage (a run file, or fresh search hits) and orders them by its score.
///
/// The output keeps only the reranked passages, best first, with the cross-encoder's scores
/// (what sentence-transformers' `CrossEncoderRerankingEvaluator` and Tevatron's reranker report);
/// passages below `depth` are not carried over, since their first-stage scores are on another
/// scale and would interleave with the new ones in a TREC run.
public struct Reranker: Sendable {
    public let model: CrossEncoder
    /// Passages reranked per query (the first stage's top `depth`).
    public var depth: Int

    public init(model: CrossEncoder, depth: Int) {
        self.model = model
        self.depth = depth
    }

    /// Reranks first-stage rankings (each query's passage ids, best first): the top `depth` of
    /// each, best first, with the cross-encoder's scores (see `CrossEncoder.rerank(rankings:...)`).
    public func rerank(_ rankings: [(queryId: String, passageIds: [String])], queries: [String: String], passages: [String: String],
                       options: EncodeOptions = EncodeOptions(), progress: (@Sendable (Int) -> Void)? = nil)
        throws(CrossEncoder.MissingInput) -> [(queryId: String, ranked: [(id: String, score: Double)])] {
        try model.rerank(rankings: rankings, depth: depth, queries: queries, passages: passages, options: options, progress: progress)
    }

    /// Reranks search hits (which carry their texts) for `queries`, keeping the top `depth` of each.
    public func rerank(_ hits: [[Hit]], queries: [String], options: EncodeOptions = EncodeOptions()) -> [[Hit]] {
        let tops = hits.map { Array($0.prefix(depth)) }
        let reranked = model.rerank(zip(queries, tops).map { ($0, $1.map(\.text)) }, options: options)
        return zip(tops, reranked).map { top, r in
            zip(r.order, r.scores).enumerated().map { rank, entry in
                Hit(rank: rank + 1, id: top[entry.0].id, score: Float(entry.1), text: top[entry.0].text)
            }
        }
    }

    /// The texts of `ids` from a collection file (only those asked for are kept).
    public static func passages(_ ids: Set<String>, collection: String) throws -> [String: String] {
        var texts: [String: String] = [:]
        let reader = try PassageReader(path: collection)
        while let (_, passage) = try reader.nextRecord() {
            if ids.contains(passage.id) { texts[passage.id] = passage.text }
        }
        return texts
    }

    /// The texts of `ids` from an index's store; ids it does not hold are left out.
    public static func passages(_ ids: Set<String>, store: EmbeddingStore) throws -> [String: String] {
        let ordered = Array(ids)
        let internalIds = try ordered.map { try store.internalId(of: $0) ?? -1 }
        var texts: [String: String] = [:]
        for (id, found) in zip(ordered, try store.passages(internalIds: internalIds)) {
            if let found { texts[id] = found.text }
        }
        return texts
    }

    /// The passage ids of the top `depth` of every ranking.
    public func passageIds(of rankings: [(queryId: String, passageIds: [String])]) -> Set<String> {
        Set(rankings.flatMap { $0.passageIds.prefix(depth) })
    }
}
