import DensekitLosses
import Foundation
import Testing

/// Values and gradients worked out by hand on cases small enough to follow on paper.
@Suite struct LossValueTests {
    // q = (1, 0); p0 = (3, 4): cos 0.6; p1 = (0, 2): cos 0. Scale 2 gives s = (1.2, 0).
    let queries: [Float] = [1, 0]
    let candidates: [Float] = [3, 4, 0, 2]
    let similarity = Similarity.cosine(scale: 2)

    @Test func infoNCEOnePositiveOneNegative() throws {
        let output = try InfoNCELoss(similarity: similarity)(
            queries: queries, candidates: candidates, dimension: 2, positives: [[0]])
        // L = -1.2 + log(e^1.2 + e^0) = log(1 + e^-1.2).
        #expect(abs(Double(output.value) - log(1 + exp(-1.2))) < 1e-6)
        // dL/ds0 = -r, dL/ds1 = r with r = 1 / (1 + e^1.2).
        // d cos(q, p)/dq = (p^ - cos q^) / |q|: (0, 0.8) for p0, (0, 1) for p1.
        // d cos(q, p)/dp = (q^ - cos p^) / |p|: (0.128, -0.096) for p0, (0.5, 0) for p1.
        let r = 1 / (1 + exp(1.2))
        let expectedQuery = [0, 2 * (-r * 0.8 + r * 1)]
        let expectedCandidates = [2 * -r * 0.128, 2 * -r * -0.096, 2 * r * 0.5, 0]
        for (a, e) in zip(output.queryGradient, expectedQuery) { #expect(abs(Double(a) - e) < 1e-6) }
        for (a, e) in zip(output.candidateGradient, expectedCandidates) { #expect(abs(Double(a) - e) < 1e-6) }
    }

    @Test func decoupledContrastiveDropsThePositiveFromTheDenominator() throws {
        let output = try DecoupledContrastiveLoss(similarity: similarity)(
            queries: queries, candidates: candidates, dimension: 2, positives: [[0]])
        // L = -1.2 + log(e^0).
        #expect(abs(output.value - -1.2) < 1e-6)
        // dL/ds0 = -1, dL/ds1 = 1 (the only negative has softmax weight 1).
        let expectedQuery = [0, 2 * (-0.8 + 1.0)]
        for (a, e) in zip(output.queryGradient, expectedQuery) { #expect(abs(Double(a) - e) < 1e-6) }
    }

    @Test func decoupledSoftmaxWithOnePositive() throws {
        let output = try DecoupledSoftmaxLoss(similarity: similarity)(
            queries: queries, candidates: candidates, dimension: 2, positives: [[0]])
        // -(1.2 - log(e^1.2 + e^0)) = log(1 + e^-1.2), InfoNCE's value.
        #expect(abs(Double(output.value) - log(1 + exp(-1.2))) < 1e-6)
    }

    @Test func decoupledSoftmaxWithTwoPositivesAndOneNegative() throws {
        // Scores 2 * (0.6, 0, 1): p2 = (5, 0) is a second positive, p1 the only negative.
        let output = try DecoupledSoftmaxLoss(similarity: similarity)(
            queries: queries, candidates: [3, 4, 0, 2, 5, 0], dimension: 2, positives: [[0, 2]])
        // L = -1/2 [ (1.2 - log(e^1.2 + 1)) + (2 - log(e^2 + 1)) ].
        let expected = -0.5 * ((1.2 - log(exp(1.2) + 1)) + (2 - log(exp(2) + 1)))
        #expect(abs(Double(output.value) - expected) < 1e-6)
    }

    @Test func symmetricWithOneQueryHalvesTheForwardTerm() throws {
        // With one query, the passage-to-query softmax has a single entry: its term is 0.
        let plain = try InfoNCELoss(similarity: similarity)(
            queries: queries, candidates: candidates, dimension: 2, positives: [[0]])
        let symmetric = try InfoNCELoss(similarity: similarity, symmetric: true)(
            queries: queries, candidates: candidates, dimension: 2, positives: [[0]])
        #expect(abs(symmetric.value - plain.value / 2) < 1e-7)
        for (a, b) in zip(symmetric.queryGradient, plain.queryGradient) { #expect(abs(a - b / 2) < 1e-7) }
    }

    @Test func dotProductScores() throws {
        // d = 1, q = (1, 2), p = (1, -1), scale 1: S = [[1, -1], [2, -2]], targets 0 and 1.
        let output = try InfoNCELoss(similarity: .dot())(
            queries: [1, 2], candidates: [1, -1], dimension: 1, positives: [[0], [1]])
        let l0: Double = -1 + log(exp(1.0) + exp(-1.0)), l1: Double = 2 + log(exp(2.0) + exp(-2.0))
        #expect(abs(Double(output.value) - (l0 + l1) / 2) < 1e-5)
        // dL/dq0 = (1/2) [(softmax_0 - 1) * 1 + softmax_1 * -1] with softmax of (1, -1).
        let a: Double = exp(1.0) / (exp(1.0) + exp(-1.0))
        #expect(abs(Double(output.queryGradient[0]) - 0.5 * ((a - 1) - (1 - a))) < 1e-6)
    }

    @Test func nonFiniteEmbeddingsGiveNaN() throws {
        var q = queries
        q[1] = .nan
        let output = try InfoNCELoss()(queries: q, candidates: candidates, dimension: 2, positives: [[0]])
        #expect(output.value.isNaN)
        var p = candidates
        p[0] = .infinity
        let dot = try DecoupledSoftmaxLoss(similarity: .dot())(queries: queries, candidates: p, dimension: 2, positives: [[0]])
        #expect(dot.value.isNaN)
    }
}
