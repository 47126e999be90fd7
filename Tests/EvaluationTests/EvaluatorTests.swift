import DensekitCorpus
import DensekitEvaluation
import Testing

/// Which queries count, and how odd rankings are handled.
@Suite struct EvaluatorTests {
    let qrels: Qrels = [
        "q1": ["a": 1, "b": 0],
        "q2": ["c": 2],
        "q3": ["d": 0, "e": -1],   // no relevant document: skipped
    ]

    @Test func emptyRunScoresZeroOverTheQueriesWithRelevantDocuments() throws {
        let result = try Toy.evaluate(qrels, Run(), "MRR@10,R@10,nDCG@10,MAP,P@5")
        #expect(result.queryCount == 2)               // q1, q2; not q3
        #expect(result.means == [0, 0, 0, 0, 0])
        #expect(result.queriesMissingFromRun == 2)
    }

    @Test func aQueryMissingFromTheRunCountsAsZero() throws {
        // q1 perfect (1 for every metric here), q2 absent -> means (1 + 0) / 2.
        let result = try Toy.evaluate(qrels, Toy.run(["q1": ["a"]]), "MRR@10,R@10,nDCG@10,MAP", perQuery: true)
        #expect(result.queryCount == 2)
        #expect(result.means == [0.5, 0.5, 0.5, 0.5])
        #expect(result.queriesMissingFromRun == 1)
        #expect(result.perQuery.map(\.queryId) == ["q1", "q2"])
        #expect(result.perQuery[1].values == [0, 0, 0, 0])
    }

    @Test func runQueriesOutsideTheQrelsAreIgnored() throws {
        // q3 (no relevant judgments) and q9 (unknown) have rankings but do not count.
        let result = try Toy.evaluate(qrels, Toy.run(["q1": ["a"], "q2": ["c"], "q3": ["d"], "q9": ["a"]]), "MRR@10")
        #expect(result.queryCount == 2 && result.means == [1])
        #expect(result.ignoredRunQueries == 2)
        #expect(result.queriesMissingFromRun == 0)
    }

    @Test func repeatedDocumentsCountOnceAtTheirFirstPosition() throws {
        // Ranking a, a, c for relevant c: without the repeat c is at rank 2 -> MRR 1/2.
        // Ranking c, c for relevant c: R@10 = 1 (not 2), P@2 = 1/2 (one distinct document).
        let result = try Toy.evaluate(["q1": ["c": 1], "q2": ["c": 1]], Toy.run(["q1": ["a", "a", "c"], "q2": ["c", "c"]]), "MRR@10,R@10,P@2", perQuery: true)
        #expect(result.perQuery[0].values == [0.5, 1, 0.5])
        #expect(result.perQuery[1].values == [1, 1, 0.5])
        #expect(result.duplicateDocuments == 2)
    }

    @Test func noQueryToEvaluate() throws {
        let result = try Toy.evaluate(["q": ["a": 0]], Toy.run(["q": ["a"]]), "MRR@10,MAP")
        #expect(result.queryCount == 0 && result.means == [0, 0] && result.ignoredRunQueries == 1)
    }

    @Test func singleQueryScores() throws {
        let evaluator = Evaluator(qrels: qrels, metrics: [.mrr(cutoff: 10), .recall(cutoff: 1)])
        #expect(evaluator.scores(queryId: "q2", ranking: [RankedDoc(docId: "x"), RankedDoc(docId: "c")]) == [0.5, 0])
        #expect(evaluator.scores(queryId: "q3", ranking: [RankedDoc(docId: "d")]) == nil)
        #expect(evaluator.queryIds == ["q1", "q2"])
    }

    @Test func numericQueryIdsAreReportedInNumericOrder() throws {
        let qrels: Qrels = ["10": ["a": 1], "9": ["a": 1], "100": ["a": 1], "b": ["a": 1], "a": ["a": 1]]
        #expect(Evaluator(qrels: qrels, metrics: [.map]).queryIds == ["9", "10", "100", "a", "b"])
    }

    @Test func meanOfAMetricByName() throws {
        let result = try Toy.evaluate(qrels, Toy.run(["q1": ["a"]]), "MRR@10")
        #expect(result.mean(of: .mrr(cutoff: 10)) == 0.5)
        #expect(result.mean(of: .map) == nil)
    }

    /// The recall curve is R@k for every k, as `evaluate` computes each: repeats dropped, a
    /// query missing from the run 0, unjudged run queries ignored.
    @Test func recallCurveEqualsRecallAtEachCutoff() throws {
        let qrels: Qrels = ["q1": ["a": 1, "b": 2, "c": 0], "q2": ["d": 1], "q3": ["e": 1], "q4": ["x": 0]]
        let run = Toy.run(["q1": ["z", "a", "a", "c", "y", "b"], "q2": ["w", "v", "u", "d"], "q9": ["a"], "q4": ["x"]])
        let evaluator = Evaluator(qrels: qrels, metrics: [])
        let curve = evaluator.recallCurve(run, depth: 8)
        #expect(curve.count == 8)
        for k in 1...8 {
            let expected = try Toy.evaluate(qrels, run, "R@\(k)").means[0]
            #expect(abs(curve[k - 1] - expected) < 1e-12, "R@\(k): \(curve[k - 1]) vs \(expected)")
        }
        // q1: a at rank 2 (of 2 relevant), b at rank 5 after the repeat of a; q2: d at 4; q3 missing.
        #expect(abs(curve[1] - 0.5 / 3) < 1e-12 && abs(curve[4] - 2.0 / 3) < 1e-12)
    }
}
