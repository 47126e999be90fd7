import DensekitEvaluation
import Testing

@Suite struct MetricNameTests {
    @Test func parsesTheUsualList() throws {
        let metrics = try Metric.parseList("MRR@10,R@10,R@100,R@1000,nDCG@10,MAP,P@5")
        #expect(metrics == [.mrr(cutoff: 10), .recall(cutoff: 10), .recall(cutoff: 100), .recall(cutoff: 1000), .ndcg(cutoff: 10), .map, .precision(cutoff: 5)])
        #expect(metrics.map(\.description) == ["MRR@10", "R@10", "R@100", "R@1000", "nDCG@10", "MAP", "P@5"])
        #expect(metrics == Metric.defaults + [.precision(cutoff: 5)])
    }

    @Test func caseSpacingAliasesAndRepeats() throws {
        let metrics = try Metric.parseList(" mrr@10, Recall@100 ,NDCG@10,map,recall@100,MRR,ndcg,p@1,")
        #expect(metrics == [.mrr(cutoff: 10), .recall(cutoff: 100), .ndcg(cutoff: 10), .map, .mrr(cutoff: nil), .ndcg(cutoff: nil), .precision(cutoff: 1)])
        #expect(try Metric(parsing: "RECALL@5") == .recall(cutoff: 5))
    }

    @Test(arguments: [
        ("foo", "unknown metric"),
        ("MRR10", "unknown metric"),
        ("R", "needs a cutoff, e.g. R@10"),
        ("P", "needs a cutoff, e.g. P@10"),
        ("MRR@0", "the cutoff '0' is not a positive integer"),
        ("nDCG@x", "the cutoff 'x' is not a positive integer"),
        ("R@", "the cutoff '' is not a positive integer"),
        ("MAP@10", "MAP is computed over the whole ranking and takes no cutoff"),
    ])
    func badNames(name: String, reason: String) {
        #expect(throws: MetricNameError(name: name, reason: reason)) { try Metric(parsing: name) }
    }

    @Test func errorListsTheValidForms() {
        let error = #expect(throws: MetricNameError.self) { try Metric.parseList("MRR@10,bogus@3") }
        #expect(error?.description == "metric 'bogus@3': unknown metric; valid forms: MRR@k, MRR, R@k (or Recall@k), nDCG@k, nDCG, P@k, MAP (case-insensitive, k a positive integer)")
        #expect(throws: MetricNameError(name: " , ", reason: "no metric given")) { try Metric.parseList(" , ") }
    }
}
