import DensekitCorpus
import DensekitEvaluation
import Foundation
import Testing

/// 2,000 queries x 1,000 results: the numbers at MS MARCO dev scale. (How fast evaluation runs
/// belongs in Benchmarks/, not in a test.)
@Suite struct LargeRunTests {
    @Test func twoThousandQueriesOfAThousandResults() throws {
        var qrels: Qrels = [:]
        var rankings: [String: [RankedDoc]] = [:]
        for q in 0..<2_000 {
            // Relevant: the document at rank (q % 10) + 1, and one never retrieved.
            let relevantRank = q % 10 + 1
            qrels["\(q)"] = ["\(q)-\(relevantRank)": 1, "\(q)-missing": 1]
            rankings["\(q)"] = (1...1_000).map { RankedDoc(docId: "\(q)-\($0)", score: Double(1_000 - $0)) }
        }
        let evaluator = Evaluator(qrels: qrels, metrics: Metric.defaults)
        let result = evaluator.evaluate(Run(rankings: rankings))
        // MRR@10 = mean over rank r = 1...10 (200 queries each) of 1/r = H(10) / 10.
        let harmonic10 = (1...10).reduce(0.0) { $0 + 1 / Double($1) }
        #expect(Toy.close(result.mean(of: .mrr(cutoff: 10)), harmonic10 / 10))
        #expect(result.mean(of: .recall(cutoff: 1000)) == 0.5)   // one of two relevant documents retrieved
        #expect(result.queryCount == 2_000)
    }
}
