/// Listwise softmax cross-entropy on a score matrix with hard targets: each row must pick its
/// target column out of the row. The listwise cross-encoder (reranker) loss.
///
/// With `t = positives[i][0]`,
///
///     L_i = -s_it + log( sum_{j not in positives[i] \ {t}} e^{s_ij} ),   L = (1/rows) sum_i L_i,
///
/// i.e. cross-entropy over the target and every column not listed as a positive; the row's other
/// listed positives are left out of the denominator (and get no gradient) rather than pushed down
/// as negatives, as in `InfoNCELoss`. Gradient: `softmax(s_i)` over the kept columns, minus 1 at `t`.
///
/// Typical layout: one row per query group, the positive in column 0 and the group's negatives
/// after it (`positives[i] == [0]`). That is Tevatron's reranker loss
/// (`src/tevatron/reranker/modeling.py`: the pair logits viewed as `[batch, group size]`,
/// cross-entropy with target 0) and AR2's ranker loss (cross-entropy over one positive and its
/// sampled hard negatives).
///
/// Relations: on the same score matrix and positives it equals `InfoNCELoss`'s score loss
/// (`lossAndGradient(overwriting:targets:)`, not symmetric) exactly, value and gradient:
/// InfoNCE is this loss on bi-encoder scores. With one positive per row it equals
/// `SoftTargetCrossEntropyLoss` at temperature 1 on the one-hot targets of those positives.
public struct ListwiseCrossEntropyLoss: ScoreLoss {
    /// Creates the loss (it has no settings; scale the scores beforehand for a temperature).
    public init() {}

    /// `sum_i L_i` and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, targets positives: PositiveSets) -> Double {
        positives.preconditionShape(of: scores)
        var total = 0.0
        for i in 0..<scores.rows {
            let row = scores.row(i)
            let list = positives[i]
            let target = list[0]
            let targetScore = row[target]
            // Softmax over the target and every unlisted column; the other positives come out 0.
            let logSum = MaskedSoftmax.inPlace(row, count: scores.columns, excluding: list.dropFirst())
            total += logSum - Double(targetScore)
            row[target] -= 1
        }
        return total
    }
}
