import DensekitTraining
import Testing

/// `clip_grad_norm_` semantics: the norm before clipping, factor max / (norm + 1e-6), non-finite reported.
@Suite struct GradientClippingTests {
    @Test func clipsAboveTheThreshold() {
        var g: [Float] = [3, 4]
        let report = GradientClipping.clip(&g, maxNorm: 1)
        #expect(report.norm == 5)
        #expect(report.clipped && report.isFinite)
        #expect(abs(report.factor - 1 / (5 + 1e-6)) < 1e-9)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
        #expect(GradientClipping.norm(g) <= 1)
    }

    @Test func leavesSmallGradientsAlone() {
        var g: [Float] = [0.3, -0.4, 0]
        let before = g
        let report = GradientClipping.clip(&g, maxNorm: 1)
        #expect(abs(report.norm - 0.5) < 1e-7)
        #expect(!report.clipped && report.factor == 1)
        #expect(g == before)
        // Exactly at the threshold torch's coefficient is max / (max + 1e-6) < 1: a tiny scale-down.
        var edge: [Float] = [1]
        #expect(GradientClipping.clip(&edge, maxNorm: 1).clipped)
    }

    @Test func reportsNonFiniteNormsAndTouchesNothing() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var g: [Float] = [1, bad, 2]
            let report = GradientClipping.clip(&g, maxNorm: 1)
            #expect(!report.isFinite, "\(bad)")
            #expect(g[0] == 1 && g[2] == 2)
        }
        // Squares that overflow float32 count as non-finite, as in torch.
        var huge: [Float] = [1e20, 1e20]
        #expect(!GradientClipping.clip(&huge, maxNorm: 1).isFinite)
    }

    @Test func normOfALongVectorIsAccurate() {
        var generator = SeededGenerator(seed: 1)
        let g = (0..<1_000_003).map { _ in Float.random(in: -1...1, using: &generator) }
        let exact = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(Double(GradientClipping.norm(g)) - exact) < 1e-6 * exact)
        #expect(GradientClipping.norm([Float]()) == 0)
    }
}
