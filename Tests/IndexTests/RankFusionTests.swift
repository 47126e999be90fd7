import DensekitSearch
import Testing

/// Reciprocal rank fusion and linear fusion as Pyserini defines them, on hand-computed cases.
@Suite struct RankFusionTests {
    let a: [RankFusion.Entry] = [("d1", 9), ("d2", 5), ("d3", 1)]
    let b: [RankFusion.Entry] = [("d3", 0.9), ("d4", 0.8), ("d1", 0.1)]

    @Test func reciprocalRankFusion() {
        let fused = RankFusion(method: .rrf, rrfK: 60).fuse([a, b], k: 10)
        // d1: 1/61 + 1/63; d3: 1/63 + 1/61 (equal: id order); d2: 1/62; d4: 1/62.
        #expect(fused.map(\.id) == ["d1", "d3", "d2", "d4"])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 63)) < 1e-12)
        #expect(abs(fused[2].score - 1.0 / 62) < 1e-12)
        #expect(RankFusion(method: .rrf).fuse([a, b], k: 2).count == 2)
    }

    @Test func linearFusionOfNormalisedScores() {
        let fused = RankFusion(method: .linear, alpha: 0.7).fuse([a, b], k: 10)
        // a normalised: d1 1, d2 0.5, d3 0; b: d3 1, d4 0.875, d1 0.
        let expected: [String: Double] = ["d1": 0.7, "d2": 0.35, "d3": 0.3, "d4": 0.3 * 0.875]
        #expect(fused.map(\.id) == ["d1", "d2", "d3", "d4"])
        for entry in fused { #expect(abs(entry.score - (expected[entry.id] ?? -1)) < 1e-12, "\(entry.id)") }
    }

    @Test func depthAndRepeatedIdsAreRespected() {
        // Cut to depth 1: only d1 and d3 take part. A repeated id counts once, at its best rank.
        #expect(Set(RankFusion(method: .rrf, depth: 1).fuse([a, b], k: 10).map(\.id)) == ["d1", "d3"])
        let repeated: [RankFusion.Entry] = [("x", 3), ("x", 2), ("y", 1)]
        let fused = RankFusion(method: .rrf, rrfK: 0).fuse([repeated], k: 10)
        #expect(fused.map(\.id) == ["x", "y"] && fused[1].score == 0.5)
    }
}
