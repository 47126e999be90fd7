import DensekitEvaluation
import Foundation
import Testing

/// XMC metrics on a case worked by hand (pyxclib's definitions): two documents,
/// doc1 truth {a, b} predicted [a, c, b]; doc2 truth {c} predicted [d, e, c].
@Suite struct XMCMetricsTests {
    static let truth = ["doc1": ["a", "b"], "doc2": ["c"]]
    static let predictions = ["doc1": ["a", "c", "b"], "doc2": ["d", "e", "c"]]
    /// Training counts a 10, b 1, c 3 of 20 documents; A 0.55, B 1.5.
    static let propensity = InversePropensity(labelCounts: ["a": 10, "b": 1, "c": 3], documents: 20)

    /// 1/p = 1 + (ln 20 - 1) 2.5^0.55 (n + 1.5)^-0.55.
    func inverse(_ n: Double) -> Double { 1 + (log(20) - 1) * pow(2.5, 0.55) * pow(n + 1.5, -0.55) }

    @Test func propensitiesFollowJainEtAl() {
        #expect(abs(Self.propensity["a"] - 1.8621552419056808) < 1e-12)
        #expect(abs(Self.propensity["b"] - 2.9957322735539913) < 1e-12)
        // A label training never saw is the rarest of all.
        #expect(abs(Self.propensity["z"] - inverse(0)) < 1e-12 && Self.propensity["z"] > Self.propensity["b"])
        let counted = InversePropensity(trainingLabels: [["a", "b"], ["a"], ["a", "a"]])
        #expect(counted.documents == 3 && counted["a"] == InversePropensity(labelCounts: ["a": 3], documents: 3)["a"])
    }

    @Test func valuesOfTheWorkedCase() throws {
        let evaluator = XMCEvaluator(truth: Self.truth, propensity: Self.propensity)
        let metrics = try XMCMetric.parseList("P@1,P@3,R@1,R@3,nDCG@3,PSP@1,PSP@2,PSP@3,PSnDCG@3")
        let report = try evaluator.evaluate(Self.predictions, metrics: metrics)
        let (a, b, c) = (inverse(10), inverse(1), inverse(3))
        func d(_ rank: Double) -> Double { 1 / log2(rank + 1) }
        let expected: [String: Double] = [
            "P@1": 0.5, "P@3": 0.5, "R@1": 0.25, "R@3": 1,
            "nDCG@3": ((d(1) + d(3)) / (d(1) + d(2)) + d(3)) / 2,
            // Ratios of means: the predicted propensity mass over the best ranking's.
            "PSP@1": a / (b + c), "PSP@2": a / (a + b + c), "PSP@3": 1,
            "PSnDCG@3": ((a * d(1) + b * d(3)) / (d(1) + d(2)) + c * d(3)) / ((b * d(1) + a * d(2)) / (d(1) + d(2)) + c),
        ]
        for metric in metrics {
            let value = try #require(report.metrics[metric])
            let want = try #require(expected[metric.description])
            #expect(abs(value - want) < 1e-12, "\(metric): \(value), expected \(want)")
        }
    }

    @Test func documentsWithoutPredictionsScoreZeroAndUnknownOnesAreCounted() throws {
        let evaluator = XMCEvaluator(truth: Self.truth)
        let report = try evaluator.evaluate(["doc1": ["a"], "doc9": ["a"]], metrics: [.precision(1)])
        #expect(report.metrics[.precision(1)] == 0.5)
        #expect(report.documentsWithoutPredictions == 1 && report.unknownDocuments == 1)
        #expect(throws: MissingPropensity.self) { try evaluator.evaluate(Self.predictions, metrics: [.psPrecision(5)]) }
    }

    @Test func namesParseAndBadOnesSayWhatIsAccepted() throws {
        #expect(try XMCMetric.parseList(" p@5, PSP@1,ndcg@5,psndcg@3,R@10,P@5") == [.precision(5), .psPrecision(1), .ndcg(5), .psNDCG(3), .recall(10)])
        #expect(XMCMetric.psNDCG(3).description == "PSnDCG@3")
        for bad in ["MRR@10", "P@0", "P@", "PSP", "P@05"] {
            #expect(throws: MetricNameError.self) { try XMCMetric.parseList(bad) }
        }
        do {
            _ = try XMCMetric.parseList("MAP")
        } catch {
            #expect(error.description.contains("PSP@k"), "\(error)")
        }
    }
}
