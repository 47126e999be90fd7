import DensekitLosses
import Testing

/// What the soft top-k does beyond its formula (its values and gradients are in
/// `GradientCheckTests`): the threshold, the positives it leaves out, what it refuses.
@Suite struct SoftTopKLossTests {
    /// One query, 6 candidates; positives 0, 1 and 4 with k 2: candidate 4 is neither target nor
    /// competitor, so its gradient is exactly 0 and moving it changes nothing.
    @Test func positivesBeyondKAreLeftOutOfTheRow() throws {
        let loss = SoftTopKLoss(similarity: .dot(scale: 1), k: 2, alpha: 2)
        let query: [Float] = [1, 0], candidates: [Float] = [0.9, 0.1, 0.5, 0.5, -0.3, 0.2, 0.2, 0.8, 0.1, 0.1, 0.7, -0.2]
        let output = try loss(queries: query, candidates: candidates, dimension: 2, positives: [[0, 1, 4]])
        #expect(output.candidateGradient[8] == 0 && output.candidateGradient[9] == 0)
        var moved = candidates
        moved[8] = 5
        #expect(try loss(queries: query, candidates: moved, dimension: 2, positives: [[0, 1, 4]]).value == output.value)
        // Listed as a target instead (k 3), it counts.
        let three = try SoftTopKLoss(similarity: .dot(scale: 1), k: 3, alpha: 2)(queries: query, candidates: candidates, dimension: 2, positives: [[0, 1, 4]])
        #expect(three.candidateGradient[8] != 0)
    }

    /// The loss falls as the positives climb into the top k, and is near 0 once they are far
    /// above the rest.
    @Test func theLossRewardsPositivesInTheTopK() throws {
        let loss = SoftTopKLoss(similarity: .dot(scale: 1), k: 2, alpha: 4)
        func value(_ positiveScore: Float) throws -> Float {
            let candidates: [Float] = [positiveScore, 0.3, 0.2, 0.1, 0]
            return try loss(queries: [1], candidates: candidates, dimension: 1, positives: [[0]]).value
        }
        #expect(try value(-1) > value(0.25))
        #expect(try value(0.25) > value(1))
        #expect(try value(5) < 1e-3)
    }

    @Test func kMustLeaveCandidatesToCompete() {
        let query: [Float] = [1, 0], candidates: [Float] = [1, 0, 0, 1, 1, 1]
        #expect(throws: LossInputError.topKTooLarge(query: 0, k: 3, columns: 3)) {
            try SoftTopKLoss(k: 3)(queries: query, candidates: candidates, dimension: 2, positives: [[0]])
        }
        #expect(throws: LossInputError.invalidTopK(k: 0, alpha: 2)) {
            try SoftTopKLoss(k: 0)(queries: query, candidates: candidates, dimension: 2, positives: [[0]])
        }
        #expect(throws: LossInputError.invalidTopK(k: 2, alpha: -1)) {
            try SoftTopKLoss(k: 2, alpha: -1)(queries: query, candidates: candidates, dimension: 2, positives: [[0]])
        }
    }
}
