import Foundation

/// Binary cross-entropy on logits: every (query, candidate) score is an independent relevance
/// classifier. The pointwise cross-encoder loss.
///
/// With `s_ij` the logit, `y_ij` the label (`BinaryLabels`, soft labels allowed) and `w` the
/// positive-class weight,
///
///     l_ij = -[ w y_ij log σ(s_ij) + (1 - y_ij) log(1 - σ(s_ij)) ],
///     L_i  = (1/columns) sum_j l_ij,   L = (1/rows) sum_i L_i,
///
/// so `L` is the mean over all `rows * columns` entries: torch's `BCEWithLogitsLoss(pos_weight=w)`
/// with its default mean reduction, which sentence-transformers' cross-encoder
/// `BinaryCrossEntropyLoss` (`sentence_transformers/cross_encoder/losses/BinaryCrossEntropyLoss.py`)
/// applies to the flattened logits of a batch of (query, passage) pairs. Laying a query's pairs out
/// as one row changes only how the sum is split, not the mean.
///
/// `w > 1` weighs the positives up, the usual fix for having many more negatives than positives
/// per query (torch suggests `w = negatives / positives`); `w = 1` is plain BCE.
///
/// Stability: `log σ(s) = -softplus(-s)` and `log(1 - σ(s)) = -softplus(s)`, with
/// `softplus(x) = max(x, 0) + log1p(e^{-|x|})`, so `l_ij = w y softplus(-s) + (1 - y) softplus(s)`
/// is finite for every finite logit (a confident wrong logit of 100 costs 100, not `inf`).
///
/// Gradient: `dl_ij/ds_ij = w y (σ(s) - 1) + (1 - y) σ(s)`, divided by `columns` for `L_i`.
/// Relations: with `w = 1` and a hard label, `l_ij` is the two-way softmax cross-entropy between
/// `s_ij` and a fixed logit of 0 (`softplus(-s) = -s + log(e^s + e^0)`). Each candidate is scored
/// on its own, never against the query's other candidates, which is what
/// `ListwiseCrossEntropyLoss` and `SoftTargetCrossEntropyLoss` do.
public struct BinaryCrossEntropyLoss: ScoreLoss {
    /// The weight `w` on the positive term (torch's `pos_weight`, one value for every column).
    public var posWeight: Float

    /// Creates the loss; `posWeight` 1 is unweighted BCE.
    public init(posWeight: Float = 1) {
        self.posWeight = posWeight
    }

    /// Checks the shape, and that `posWeight` is finite and non-negative.
    public func validate(_ targets: BinaryLabels, for scores: ScoreMatrix) throws(LossInputError) {
        try targets.validateShape(for: scores)
        guard posWeight.isFinite, posWeight >= 0 else { throw .invalidPositiveWeight(posWeight) }
    }

    /// `sum_i L_i` and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, targets: BinaryLabels) -> Double {
        targets.preconditionShape(of: scores)
        let n = scores.columns
        let perColumn = 1 / Float(n)
        var total = 0.0
        targets.values.withUnsafeBufferPointer { labels in
            for i in 0..<scores.rows {
                let row = scores.row(i)
                var rowTotal = 0.0
                for j in 0..<n {
                    let s = row[j], y = labels[i * n + j]
                    // e = e^{-|s|} <= 1 never overflows; both softplus terms and σ come from it.
                    let e = Foundation.exp(-abs(s))
                    let tail = Foundation.log1p(e)
                    let softplusPositive = max(s, 0) + tail        // softplus(s)  = -log(1 - σ(s))
                    let softplusNegative = max(-s, 0) + tail       // softplus(-s) = -log σ(s)
                    let sigma = s >= 0 ? 1 / (1 + e) : e / (1 + e)
                    let positive = posWeight * y
                    rowTotal += Double(positive * softplusNegative + (1 - y) * softplusPositive)
                    row[j] = (positive * (sigma - 1) + (1 - y) * sigma) * perColumn
                }
                total += rowTotal / Double(n)
            }
        }
        return total
    }
}
