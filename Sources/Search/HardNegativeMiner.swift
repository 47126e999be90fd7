import DensekitCorpus
import DensekitEncoder

/// Hard negatives from an index: each query's top-ranked passages that are not relevant to it,
/// for training with `--negatives` (lines `qid<TAB>pid,pid,...`, best first).
///
/// A passage whose text equals a relevant passage's is not a negative either (the same package
/// described twice); the first `skip` remaining ranks are dropped as the likeliest false
/// negatives (as Tevatron's and sentence-transformers' miners offer), then `keep` are kept.
public struct HardNegativeMiner: Sendable {
    /// Passages retrieved per query.
    public var depth: Int
    /// Ranks skipped at the top, after removing positives.
    public var skip: Int
    /// Negatives kept per query.
    public var keep: Int

    public init(depth: Int = 30, skip: Int = 0, keep: Int = 10) {
        self.depth = depth
        self.skip = skip
        self.keep = keep
    }

    /// What mining found.
    public struct Result: Sendable {
        /// Per query with at least one negative, in query order: its id and negatives, best first.
        public var negatives: [(queryId: String, passageIds: [String])]
        /// Queries searched (those with a relevant passage in the qrels).
        public var queryCount: Int
        /// Queries whose top `depth` held a relevant passage.
        public var queriesWithPositiveFound: Int
        /// All negatives written.
        public var negativeCount: Int { negatives.reduce(0) { $0 + $1.passageIds.count } }
    }

    /// The negatives among one query's ranked hits (with texts), best first.
    public func negatives(from hits: [Hit], relevant: Set<String>) -> [String] {
        let relevantTexts = Set(hits.filter { relevant.contains($0.id) }.map(\.text))
        return Array(hits.filter { !relevant.contains($0.id) && !relevantTexts.contains($0.text) }.dropFirst(skip).prefix(keep).map(\.id))
    }

    /// Searches every query that has a relevant passage in `qrels` and picks its negatives.
    /// - Parameter progress: called with the number of queries searched so far.
    public func mine(queries: [(id: String, text: String)], qrels: Qrels, searcher: Searcher,
                     progress: (Int) -> Void = { _ in }) throws -> Result {
        let judged = queries.filter { qrels[$0.id]?.contains(where: { $0.value > 0 }) == true }
        let hits = try searcher.search(judged.map(\.text), k: depth, includeText: true, progress: progress)
        var result = Result(negatives: [], queryCount: judged.count, queriesWithPositiveFound: 0)
        for (query, ranked) in zip(judged, hits) {
            let relevant = Set((qrels[query.id] ?? [:]).filter { $0.value > 0 }.map(\.key))
            if ranked.contains(where: { relevant.contains($0.id) }) { result.queriesWithPositiveFound += 1 }
            let picked = negatives(from: ranked, relevant: relevant)
            if !picked.isEmpty { result.negatives.append((query.id, picked)) }
        }
        return result
    }
}
