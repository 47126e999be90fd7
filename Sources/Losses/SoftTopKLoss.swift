import Foundation

/// Soft top-k loss (DEXML, Gupta et al. ICLR 2024, `utils/topk_utils.py`, after Thomas Ahle's
/// differentiable top-k): each row's scores are shifted by the one `t_i` that makes their
/// sigmoids sum to `k`, so `p_ij = sigmoid(alpha (s_ij + t_i))` is a soft "j is in the top k",
/// and the loss asks every positive to be in it:
///
///     sum_j sigmoid(alpha (s_ij + t_i)) = k          (t_i found by bisection, 64 halvings)
///     L = -(1/B) sum_i (1/|T_i|) sum_{j in T_i} log p_ij
///
/// `T_i` is the first `min(k, |positives[i]|)` positives of query `i`; its other positives (a
/// document with more labels than `k`) are left out of the row altogether, neither targets nor
/// competitors, as DEXML masks the positives it did not sample. Every other candidate
/// competes for the `k` places.
///
/// Gradient (t depends on every score of its row): with `z_j = alpha (s_j + t)`,
/// `u_j = dL_i/dz_j = -(1 - sigmoid(z_j)) / |T|` on targets (0 elsewhere), and
/// `v_j = sigmoid'(z_j)` on the row's columns, the constraint gives
/// `dt/ds_m = -v_m / sum_n v_n`, so
///
///     dL_i/ds_m = alpha (u_m - v_m (sum_j u_j) / (sum_n v_n)),
///
/// which is DEXML's backward (`-(1-v) v^T / s + diag(v)` applied to the upstream gradient).
///
/// Relations: as `alpha` grows, `p` tends to the hard indicator "s_ij is among the k largest";
/// unlike `DecoupledSoftmaxLoss` it does not push a positive beyond the k-th place, and with
/// `k` at least the number of positives it stops asking once they are all in the top k.
public struct SoftTopKLoss: ContrastiveLoss {
    public var similarity: Similarity
    /// The soft top-k's size (DEXML's `topk_K`; default 5).
    public var k: Int
    /// The sigmoids' sharpness (DEXML's `topk_alpha`; default 2).
    public var alpha: Double

    public init(similarity: Similarity = .cosine(), k: Int = 5, alpha: Double = 2) {
        self.similarity = similarity
        self.k = k
        self.alpha = alpha
    }

    /// Each row must have more columns than `k` once its untargeted positives are left out.
    public func validate(_ positives: PositiveSets) throws(LossInputError) {
        guard k >= 1, alpha.isFinite, alpha > 0 else { throw .invalidTopK(k: k, alpha: alpha) }
        for i in 0..<positives.queryCount where positives.candidateCount - max(0, positives[i].count - k) <= k {
            throw .topKTooLarge(query: i, k: k, columns: positives.candidateCount - max(0, positives[i].count - k))
        }
    }

    public func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double {
        let m = scores.columns
        var z = [Double](repeating: 0, count: m), p = [Double](repeating: 0, count: m), included = [Bool](repeating: true, count: m)
        var total = 0.0
        for i in 0..<scores.rows {
            let row = scores.row(i)
            let targets = Array(positives[i].prefix(k))
            for j in 0..<m { included[j] = true }
            for j in positives[i].dropFirst(k) { included[j] = false }
            let t = threshold(row, included: included)
            for j in 0..<m {
                z[j] = alpha * (Double(row[j]) + t)
                p[j] = Self.sigmoid(z[j])
            }
            // L_i and u_j = dL_i/dz_j on the targets.
            let weight = 1 / Double(targets.count)
            var uSum = 0.0, vSum = 0.0
            for j in 0..<m where included[j] { vSum += p[j] * (1 - p[j]) }
            var u = [Double](repeating: 0, count: targets.count)
            for (n, j) in targets.enumerated() {
                total += weight * Self.softplus(-z[j])
                u[n] = -weight * (1 - p[j])
                uSum += u[n]
            }
            // dL_i/ds_m = alpha (u_m - v_m uSum / vSum); a row whose sigmoids are all saturated
            // (vSum 0) has no defined t-derivative and keeps the direct term only.
            let ratio = vSum > 0 ? uSum / vSum : 0
            for j in 0..<m {
                guard included[j] else { row[j] = 0; continue }
                row[j] = Float(alpha * (-p[j] * (1 - p[j]) * ratio))
            }
            for (n, j) in targets.enumerated() { row[j] += Float(alpha * u[n]) }
        }
        return total
    }

    /// The `t` with `sum_{included j} sigmoid(alpha (s_j + t)) = k`, by 64 halvings of
    /// `[-max s - 10/alpha, -min s + 10/alpha]` (where the sum is about 0 and about n).
    func threshold(_ row: UnsafeMutablePointer<Float>, included: [Bool]) -> Double {
        var low = Double.infinity, high = -Double.infinity
        for j in included.indices where included[j] {
            low = min(low, Double(row[j]))
            high = max(high, Double(row[j]))
        }
        var lo = -high - 10 / alpha, hi = -low + 10 / alpha
        for _ in 0..<64 {
            let mid = (lo + hi) / 2
            var sum = 0.0
            for j in included.indices where included[j] { sum += Self.sigmoid(alpha * (Double(row[j]) + mid)) }
            if sum < Double(k) { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// `log(1 + e^x)` without overflow (so `-log sigmoid(z) = softplus(-z)`).
    static func softplus(_ x: Double) -> Double {
        x > 0 ? x + Foundation.log1p(Foundation.exp(-x)) : Foundation.log1p(Foundation.exp(x))
    }
}
