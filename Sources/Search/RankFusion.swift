/// Fuses rankings of the same queries from several retrievers (BM25 and dense, or any run
/// files), as Pyserini's `pyserini.fusion` and hybrid searchers do.
///
/// - Reciprocal rank fusion (Cormack et al. 2009): `score(d) = sum over rankings of 1 / (k + rank(d))`,
///   rank 1-based, a ranking without d adding nothing; k = 60 by default.
/// - Linear: each ranking's scores are min-max normalised to [0, 1] (all equal: 1), then
///   `score(d) = sum of weight_r * normalised_r(d)`, a ranking without d adding 0 (its minimum).
///   With two rankings the weights are alpha and 1 - alpha.
///
/// Each ranking is cut to `depth` before fusing; the result is ordered by fused score, then id.
public struct RankFusion: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case rrf, linear
    }

    public var method: Method
    /// RRF's constant.
    public var rrfK: Double
    /// Linear: the first ranking's weight when there are two (the second gets 1 - alpha);
    /// nil gives every ranking the same weight.
    public var alpha: Double?
    /// Entries of each ranking taken into the fusion.
    public var depth: Int

    public init(method: Method = .rrf, rrfK: Double = 60, alpha: Double? = nil, depth: Int = 1_000) {
        self.method = method
        self.rrfK = rrfK
        self.alpha = alpha
        self.depth = depth
    }

    /// One ranked entry: an id and its score in its ranking (higher is better).
    public typealias Entry = (id: String, score: Double)

    /// The fused ranking of one query's `rankings` (each best first), cut to `k`.
    public func fuse(_ rankings: [[Entry]], k: Int) -> [Entry] {
        var fused: [String: Double] = [:]
        let weights = self.weights(count: rankings.count)
        for (ranking, weight) in zip(rankings, weights) {
            // An id repeated in a ranking counts once, at its best position.
            var seen = Set<String>()
            let cut = ranking.prefix(depth).filter { seen.insert($0.id).inserted }
            switch method {
            case .rrf:
                for (index, entry) in cut.enumerated() {
                    fused[entry.id, default: 0] += 1 / (rrfK + Double(index + 1))
                }
            case .linear:
                guard let low = cut.map(\.score).min(), let high = cut.map(\.score).max() else { continue }
                for entry in cut {
                    let normalised = high > low ? (entry.score - low) / (high - low) : 1
                    fused[entry.id, default: 0] += weight * normalised
                }
            }
        }
        let ordered = fused.map { (id: $0.key, score: $0.value) }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return Array(ordered.prefix(k))
    }

    private func weights(count: Int) -> [Double] {
        if method == .linear, count == 2, let alpha { return [alpha, 1 - alpha] }
        return Array(repeating: 1, count: count)
    }
}

extension RankFusion {
    /// Fuses the hit lists of one query from several retrievers into `k` hits, ranked anew,
    /// carrying each passage's text from the list that had it.
    public func fuse(hits lists: [[Hit]], k: Int) -> [Hit] {
        var texts: [String: String] = [:]
        for list in lists { for hit in list where texts[hit.id] == nil || texts[hit.id]?.isEmpty == true { texts[hit.id] = hit.text } }
        let fused = fuse(lists.map { $0.map { (id: $0.id, score: Double($0.score)) } }, k: k)
        return fused.enumerated().map { Hit(rank: $0.offset + 1, id: $0.element.id, score: Float($0.element.score), text: texts[$0.element.id] ?? "") }
    }
}
