import DensekitTensor
import Foundation

/// Decoupled softmax loss (DEXML, Gupta et al., "Dual-Encoders for Extreme Multi-Label
/// Classification", ICLR 2024; `losses.py`): every positive of a query competes only with the
/// query's negatives, never with its other positives.
///
/// With `P_i = positives[i]` and `N_i` the other candidates,
///
///     L = -(1/B) sum_i (1/|P_i|) sum_{j in P_i} [ s_ij - log( e^{s_ij} + sum_{k in N_i} e^{s_ik} ) ].
///
/// Each bracket is InfoNCE with target `j` and the query's other positives masked, so:
/// - with one positive per query it equals `InfoNCELoss` exactly (value and gradients; InfoNCE
///   keeps the positive in its denominator, which is what this formula does too);
/// - with several, query `i`'s term is the mean over `j in P_i` of InfoNCE with `j` moved to the
///   front of the list;
/// - it is not `DecoupledContrastiveLoss`, which drops `e^{s_ij}` from the denominator.
///
/// Unlike InfoNCE, which trains one chosen positive per query, it uses all of them, which is why
/// DEXML uses it for multi-label data. The reference uses cosine over tau 0.05 (`.cosine(scale:
/// 20)`), and tau 1 without normalisation (`.dot(scale: 1)`) on its two largest datasets.
/// A query with no negatives contributes 0 (each bracket is `s - log e^s`).
public struct DecoupledSoftmaxLoss: ContrastiveLoss {
    /// How scores are computed.
    public var similarity: Similarity

    /// Creates the loss (cosine with scale 20 by default, DEXML's tau 0.05).
    public init(similarity: Similarity = .cosine()) {
        self.similarity = similarity
    }

    /// `sum_i L_i` and its gradient over `scores`.
    ///
    /// With `lse_i = log sum_{N_i} e^{s_ik}` and `a_ij = sigmoid(lse_i - s_ij)` (the probability
    /// the bracket's softmax gives the negatives): the bracket is `-softplus(lse_i - s_ij)`, its
    /// gradient is `-a_ij` at `s_ij` and `a_ij * q_ik` at each negative `k`, with `q_i` the
    /// softmax over the negatives alone. So one masked softmax per row serves every positive.
    public func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double {
        // Per-positive scores, saved before the softmax overwrites them; then their gradients.
        var saved = [Float](repeating: 0, count: positives.maximumCount)
        var total = 0.0
        for i in 0..<scores.rows {
            let row = scores.row(i)
            let list = positives[i]
            for (n, j) in list.enumerated() { saved[n] = row[j] }
            let negativeLogSum = MaskedSoftmax.inPlace(row, count: scores.columns, excluding: list)
            let weight = 1 / Double(list.count)
            var negativeMass = 0.0
            for n in 0..<list.count {
                let margin = negativeLogSum - Double(saved[n])
                total += weight * softplus(margin)
                let a = sigmoid(margin)
                negativeMass += a
                saved[n] = Float(-weight * a)
            }
            // Negatives: (1/|P_i|) sum_j a_ij q_ik. Positives were 0 and are set right after.
            RowKernels.scale(row, by: Float(weight * negativeMass), scores.columns)
            for (n, j) in list.enumerated() { row[j] = saved[n] }
        }
        return total
    }

    /// `log(1 + e^x)` without overflow; 0 at `-infinity` (no negatives).
    private func softplus(_ x: Double) -> Double {
        x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))
    }

    /// `1 / (1 + e^{-x})` without overflow; 0 at `-infinity`.
    private func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
}
