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
}
