import DensekitTensor

/// Cross-entropy between a target distribution and the softmax of each row of scores: ListNet's
/// listwise loss, and distillation from a teacher's distribution.
///
/// With targets `t_i` (`TargetDistribution`, each row a distribution over the columns) and
/// temperature `T`,
///
///     p_i = softmax(s_i / T),   L_i = -sum_j t_ij log p_ij,   L = (1/rows) sum_i L_i.
///
/// Computed as `L_i = log sum_j e^{s_ij / T} - sum_j t_ij s_ij / T` (using `sum_j t_ij = 1`), which
/// never forms `log p_ij`: a column the target gives no mass costs nothing even where `p_ij`
/// underflows to 0, where `0 * log 0` would be NaN.
///
/// Gradient: `dL_i/ds_ij = (p_ij - t_ij) / T`. Rows are checked to sum to 1 only within 1e-4, so
/// the code uses the row's actual mass `m_i = sum_j t_ij` in both the value
/// (`m_i log sum_j e^{s_ij/T} - ...`) and the gradient (`(m_i p_ij - t_ij) / T`), which keeps the
/// two exactly consistent.
///
/// Relations:
/// - KL divergence: `KL(t_i || p_i) = L_i - H(t_i)` with `H(t_i) = -sum_j t_ij log t_ij` the
///   targets' entropy, which does not depend on the scores and so has no gradient. This loss and
///   torch's `kl_div(log p, t)` (the form AR2 trains its retriever with, against its ranker's
///   `TargetDistribution.softmax(of:rows:columns:temperature:)`) therefore have the same gradient;
///   only the value is offset, by a constant for given targets (0 for one-hot targets).
/// - With one-hot targets (`t_ij = 1` at `j = target_i`) and `T = 1` it equals
///   `ListwiseCrossEntropyLoss` with `positives[i] == [target_i]`.
/// - ListNet (Cao et al., ICML 2007, top-one probabilities) is this loss with `t_i` the softmax of
///   the relevance grades.
public struct SoftTargetCrossEntropyLoss: ScoreLoss {
    /// `T`: scores are divided by it before the softmax (below 1 sharpens `p`, above 1 flattens it).
    public var temperature: Float

    /// Creates the loss; temperature 1 is plain softmax cross-entropy.
    public init(temperature: Float = 1) {
        self.temperature = temperature
    }

    /// Checks the shape, and that `temperature` is finite and positive.
    public func validate(_ targets: TargetDistribution, for scores: ScoreMatrix) throws(LossInputError) {
        try targets.validateShape(for: scores)
        guard temperature.isFinite, temperature > 0 else { throw .invalidTemperature(temperature) }
    }

    /// `sum_i L_i` and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, targets: TargetDistribution) -> Double {
        targets.preconditionShape(of: scores)
        let n = scores.columns
        let inverse = 1 / temperature
        var total = 0.0
        targets.values.withUnsafeBufferPointer { t in
            for i in 0..<scores.rows {
                let row = scores.row(i)
                RowKernels.scale(row, by: inverse, n)
                // The target-weighted score, taken before the softmax overwrites the row.
                var mass = 0.0, weighted = 0.0
                for j in 0..<n {
                    let tj = t[i * n + j]
                    mass += Double(tj)
                    weighted += Double(tj) * Double(row[j])
                }
                let logSum = MaskedSoftmax.inPlace(row, count: n, excluding: EmptyCollection<Int>())
                total += mass * logSum - weighted
                let m = Float(mass)
                for j in 0..<n { row[j] = (m * row[j] - t[i * n + j]) * inverse }
            }
        }
        return total
    }
}
