/// Decoupled contrastive loss (DCL; Yeh et al., "Decoupled Contrastive Learning", ECCV 2022):
/// InfoNCE with the positive removed from the denominator.
///
/// With `t = positives[i][0]` and `N_i` the candidates not in `positives[i]`,
///
///     L_i = -s_it + log( sum_{k in N_i} e^{s_ik} ),   L = (1/B) sum_i L_i.
///
/// Removing `e^{s_it}` from the denominator removes the "negative-positive coupling" of InfoNCE:
/// its gradient no longer shrinks as the positive gets easy, which makes it less sensitive to
/// batch size. Known positives (`positives[i]` beyond the first) are excluded from the
/// denominator, like the target, and get no gradient. The value can be negative; it is always
/// below `InfoNCELoss`'s on the same inputs, since InfoNCE's denominator has the extra term
/// `e^{s_it}`: `L^InfoNCE_i = L^DCL_i + log(1 + e^{s_it} / sum_{N_i} e^{s_ik})`.
///
/// Every query needs at least one negative (`LossInputError.noNegatives` otherwise).
public struct DecoupledContrastiveLoss: ContrastiveLoss {
    /// How scores are computed.
    public var similarity: Similarity

    /// Creates the loss (cosine with scale 20 by default, as the InfoNCE it replaces).
    public init(similarity: Similarity = .cosine()) {
        self.similarity = similarity
    }

    /// Rejects queries whose positives cover every candidate: their denominator would be empty.
    public func validate(_ positives: PositiveSets) throws(LossInputError) {
        for i in 0..<positives.queryCount where positives.negativeCount(of: i) == 0 {
            throw .noNegatives(query: i)
        }
    }

    /// `sum_i L_i` and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double {
        var total = 0.0
        for i in 0..<scores.rows {
            let row = scores.row(i)
            let list = positives[i]
            let target = list[0]
            let targetScore = row[target]
            // Softmax over the negatives only; every positive comes out 0.
            let logSum = MaskedSoftmax.inPlace(row, count: scores.columns, excluding: list)
            total += logSum - Double(targetScore)
            row[target] = -1
        }
        return total
    }
}
