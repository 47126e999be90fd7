import Foundation

/// One query's judgments, prepared once for every ranking evaluated against them.
struct JudgedQuery: Sendable {
    /// Relevance of every judged document, <= 0 included.
    let relevance: [String: Int]
    /// Documents with relevance > 0: the denominator of recall and average precision.
    let relevantCount: Int
    /// The positive relevances, largest first: the ideal ranking's gains for nDCG.
    let idealGains: [Int]

    init(_ relevance: [String: Int]) {
        self.relevance = relevance
        idealGains = relevance.values.filter { $0 > 0 }.sorted(by: >)
        relevantCount = idealGains.count
    }
}

/// The metric formulas, on the relevance of each ranked document (0 when unjudged), in rank order.
///
/// These follow trec_eval 9: binary relevance is relevance > 0; nDCG is `ndcg_cut` (gain = the
/// relevance itself when positive, discount log2(rank + 1), ideal from all positive judgments).
enum MetricFormulas {
    static func value(of metric: Metric, relevances: [Int], query: JudgedQuery) -> Double {
        switch metric {
        case .mrr(let cutoff): reciprocalRank(relevances, cutoff: cutoff)
        case .recall(let cutoff): Double(relevantCount(relevances, cutoff: cutoff)) / Double(query.relevantCount)
        case .precision(let cutoff): Double(relevantCount(relevances, cutoff: cutoff)) / Double(cutoff)
        case .ndcg(let cutoff): ndcg(relevances, idealGains: query.idealGains, cutoff: cutoff)
        case .map: averagePrecision(relevances, relevantCount: query.relevantCount)
        }
    }

    /// 1 / rank of the first relevant document within the cutoff; 0 when there is none.
    static func reciprocalRank(_ relevances: [Int], cutoff: Int?) -> Double {
        let end = min(cutoff ?? relevances.count, relevances.count)
        guard let first = relevances[..<end].firstIndex(where: { $0 > 0 }) else { return 0 }
        return 1 / Double(first + 1)
    }

    /// Relevant documents within the cutoff.
    static func relevantCount(_ relevances: [Int], cutoff: Int) -> Int {
        relevances[..<min(cutoff, relevances.count)].reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
    }

    /// Sum over relevant retrieved documents of precision at their rank, over all relevant documents
    /// (relevant documents not retrieved contribute 0).
    static func averagePrecision(_ relevances: [Int], relevantCount: Int) -> Double {
        var hits = 0, sum = 0.0
        for (index, relevance) in relevances.enumerated() where relevance > 0 {
            hits += 1
            sum += Double(hits) / Double(index + 1)
        }
        return sum / Double(relevantCount)
    }

    /// DCG of the ranking over DCG of the ideal ranking, both cut at the cutoff.
    static func ndcg(_ relevances: [Int], idealGains: [Int], cutoff: Int?) -> Double {
        let dcg = discountedGain(relevances[..<min(cutoff ?? relevances.count, relevances.count)])
        let ideal = discountedGain(idealGains[..<min(cutoff ?? idealGains.count, idealGains.count)])
        return ideal > 0 ? dcg / ideal : 0
    }

    /// Sum of gain / log2(rank + 1) over positive gains, rank from 1.
    private static func discountedGain(_ gains: ArraySlice<Int>) -> Double {
        var sum = 0.0
        for (offset, gain) in gains.enumerated() where gain > 0 {
            sum += Double(gain) / log2(Double(offset + 2))
        }
        return sum
    }
}
