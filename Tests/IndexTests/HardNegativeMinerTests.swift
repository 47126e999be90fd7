import DensekitSearch
import Testing

/// Picking negatives from a query's ranked hits: positives and their duplicates out, then skip, then keep.
@Suite struct HardNegativeMinerTests {
    func hits(_ rows: [(String, String)]) -> [Hit] {
        rows.enumerated().map { Hit(rank: $0.offset + 1, id: $0.element.0, score: Float(10 - $0.offset), text: $0.element.1) }
    }

    @Test func positivesAndTheirTextTwinsAreNeverNegatives() {
        let ranked = hits([("p1", "a"), ("p2", "b"), ("p3", "a"), ("p4", "c"), ("p5", "d"), ("p6", "e")])
        // p1 is relevant; p3 has its text (the same package described twice).
        #expect(HardNegativeMiner(keep: 10).negatives(from: ranked, relevant: ["p1"]) == ["p2", "p4", "p5", "p6"])
        #expect(HardNegativeMiner(skip: 1, keep: 2).negatives(from: ranked, relevant: ["p1"]) == ["p4", "p5"])
        #expect(HardNegativeMiner(skip: 9, keep: 2).negatives(from: ranked, relevant: ["p1"]).isEmpty)
        // A relevant passage outside the hits removes nothing else.
        #expect(HardNegativeMiner(keep: 3).negatives(from: ranked, relevant: ["p9"]) == ["p1", "p2", "p3"])
    }

    func miner(_ configure: (inout HardNegativeMiner.Options) -> Void) -> HardNegativeMiner {
        var options = HardNegativeMiner.Options()
        configure(&options)
        return HardNegativeMiner(options: options)
    }

    /// Scores 10, 9, ... 5 for p1 ... p6; the best positive scores 9.5.
    @Test func marginsAndScoreLimitsAsSentenceTransformersDefinesThem() {
        let ranked = hits([("p1", "a"), ("p2", "b"), ("p3", "c"), ("p4", "d"), ("p5", "e"), ("p6", "f")])
        // Absolute: keep score <= 9.5 - 2 = 7.5 -> p4 (7), p5, p6.
        #expect(miner { $0.absoluteMargin = 2 }.negatives(from: ranked, relevant: ["p9"], positiveTexts: ["z"], bestPositive: 9.5) == ["p4", "p5", "p6"])
        // Relative: keep score <= 9.5 - 9.5 x 0.1 = 8.55 -> p3 (8) on.
        #expect(miner { $0.relativeMargin = 0.1 }.negatives(from: ranked, relevant: ["p9"], positiveTexts: ["z"], bestPositive: 9.5) == ["p3", "p4", "p5", "p6"])
        #expect(miner { $0.maxScore = 8; $0.minScore = 6 }.negatives(from: ranked, relevant: [], positiveTexts: []) == ["p3", "p4", "p5"])
        // A positive's text found in the candidates drops them even when the positive was not retrieved.
        #expect(miner { _ in }.negatives(from: ranked, relevant: ["p9"], positiveTexts: ["b", "e"]) == ["p1", "p3", "p4", "p6"])
    }

    @Test func randomSamplingIsSeededAndKeepsRankOrder() {
        let ranked = hits((1...20).map { ("p\($0)", "t\($0)") })
        let first = miner { $0.sampling = .random; $0.negativesPerQuery = 5; $0.seed = 3 }.negatives(from: ranked, relevant: [])
        let again = miner { $0.sampling = .random; $0.negativesPerQuery = 5; $0.seed = 3 }.negatives(from: ranked, relevant: [])
        let other = miner { $0.sampling = .random; $0.negativesPerQuery = 5; $0.seed = 4 }.negatives(from: ranked, relevant: [])
        #expect(first == again && first != other && first.count == 5)
        let order = ranked.map(\.id)
        #expect(first.map { order.firstIndex(of: $0) ?? -1 } == first.map { order.firstIndex(of: $0) ?? -1 }.sorted())
        #expect(miner { $0.negativesPerQuery = 5 }.negatives(from: ranked, relevant: []) == ["p1", "p2", "p3", "p4", "p5"])
    }
}
