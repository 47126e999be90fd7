/// One retrieved document of a ranking.
public struct RankedDoc: Sendable, Hashable {
    /// The document id.
    public var docId: String
    /// The retrieval score; nil for MS MARCO runs, which carry only ranks.
    public var score: Double?

    /// A retrieved document with an optional score.
    public init(docId: String, score: Double? = nil) {
        self.docId = docId
        self.score = score
    }

    /// trec_eval's order: score descending, equal scores by document id descending (byte-wise, as
    /// `strcmp`), so that runs with ties evaluate exactly as trec_eval evaluates them. A missing
    /// score sorts last. Usable as `ranking.sort(by: RankedDoc.trecEvalOrder)`.
    public static func trecEvalOrder(_ a: RankedDoc, _ b: RankedDoc) -> Bool {
        let sa = a.score ?? -.infinity, sb = b.score ?? -.infinity
        if sa != sb { return sa > sb }
        return b.docId.utf8.lexicographicallyPrecedes(a.docId.utf8)
    }
}

/// Retrieval results: for each query id, its documents best first.
///
/// The order of each ranking is taken as given; `RunReader` builds it from a file (trec_eval's
/// score order for TREC runs, rank order for MS MARCO runs). Duplicate documents are allowed here;
/// the evaluator keeps the first occurrence.
public struct Run: Sendable {
    /// Ranking per query id, best first.
    public var rankings: [String: [RankedDoc]]

    /// A run from rankings already in order.
    public init(rankings: [String: [RankedDoc]] = [:]) {
        self.rankings = rankings
    }

    /// How many queries have a ranking.
    public var queryCount: Int { rankings.count }

    /// How many documents all rankings hold together.
    public var resultCount: Int { rankings.values.reduce(0) { $0 + $1.count } }
}
