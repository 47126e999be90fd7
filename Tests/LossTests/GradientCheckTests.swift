import DensekitLosses
import Foundation
import Testing

/// Every analytic gradient entry against central finite differences of the double-precision
/// reference formula, and every value against that formula.
///
/// Tolerance. The finite differences are taken in Double with h = 1e-5 on inputs of size ~1:
/// truncation error is h^2/6 * |f'''| (at most ~1e-7 even with scale 20, where third
/// derivatives reach ~20^3 / |x|^3), rounding error ~1e-16 * |L| / h ~ 1e-11, so they are exact
/// to ~1e-7. The production side runs in float32: scores carry ~scale * 1e-7 absolute error
/// (2e-6 at scale 20), softmax probabilities inherit it, and each gradient entry sums ~M of
/// those products times scale / B. Measured (DENSEKIT_TEST_VERBOSE=1 prints it): max
/// |analytic - fd| 1.3e-6 at scale 20, under 1.3e-7 at scale 1 and for the dot product. Hence
/// `|analytic - fd| <= 2e-5 * (1 + |fd|)`: over 10x the worst measured error, and far below the
/// size of a formula mistake (a wrong mask, a missing 1/2 or 1/|P| changes entries by 1e-2 or
/// more on these inputs).
@Suite struct GradientCheckTests {
    @Test(arguments: ReferenceLoss.Kind.allCases, SimilarityCase.allCases)
    func gradientsMatchFiniteDifferences(kind: ReferenceLoss.Kind, similarity: SimilarityCase) throws {
        for seed: UInt64 in [1, 2, 3] {
            let batch = SmallBatch(seed: seed)
            let loss = makeLoss(kind, similarity.similarity)
            let output = try loss(
                queries: batch.queries, candidates: batch.candidates,
                dimension: SmallBatch.dimension, positives: SmallBatch.positives)

            let cosine = similarity.similarity.normalizes, scale = Double(similarity.similarity.scale)
            var q = batch.queries.map(Double.init), p = batch.candidates.map(Double.init)
            func reference() -> Double {
                ReferenceLoss.loss(kind, q: q, p: p, dimension: SmallBatch.dimension,
                                   positives: SmallBatch.positives, cosine: cosine, scale: scale)
            }
            let value = reference()
            #expect(abs(Double(output.value) - value) <= 1e-5 * (1 + abs(value)), "value, seed \(seed)")

            let h = 1e-5
            var worst = 0.0
            for index in q.indices {
                let saved = q[index]
                q[index] = saved + h; let up = reference()
                q[index] = saved - h; let down = reference()
                q[index] = saved
                let fd = (up - down) / (2 * h), analytic = Double(output.queryGradient[index])
                worst = max(worst, abs(analytic - fd))
                #expect(abs(analytic - fd) <= 2e-5 * (1 + abs(fd)), "dL/dQ[\(index)], seed \(seed): \(analytic) vs \(fd)")
            }
            for index in p.indices {
                let saved = p[index]
                p[index] = saved + h; let up = reference()
                p[index] = saved - h; let down = reference()
                p[index] = saved
                let fd = (up - down) / (2 * h), analytic = Double(output.candidateGradient[index])
                worst = max(worst, abs(analytic - fd))
                #expect(abs(analytic - fd) <= 2e-5 * (1 + abs(fd)), "dL/dP[\(index)], seed \(seed): \(analytic) vs \(fd)")
            }
            if ProcessInfoFlags.verbose { print("\(kind) \(similarity) seed \(seed): max |analytic - fd| = \(worst)") }
        }
    }
}

enum ProcessInfoFlags {
    /// Set DENSEKIT_TEST_VERBOSE=1 to print the measured errors behind the tolerances.
    static let verbose = ProcessInfo.processInfo.environment["DENSEKIT_TEST_VERBOSE"] == "1"
}
