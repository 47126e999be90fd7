import DensekitTensor
import Foundation

/// The numerically stable softmax / log-sum-exp that every contrastive loss here is built from.
public enum MaskedSoftmax {
    /// In place: replaces `x[0..<count]` by the softmax over the entries whose index is not in
    /// `excluded` (those become exactly 0), and returns the log-sum-exp of the included entries,
    /// `log sum_{j not excluded} e^{x_j}`, or `-infinity` when every entry is excluded (the row is
    /// then all zeros).
    ///
    /// The row maximum over the included entries is subtracted before exponentiating, so no
    /// score range overflows. The log-sum-exp comes back in Double: losses subtract a score of
    /// similar size from it (`lse - s_target`), and doing that in Float would lose digits of a
    /// small loss to cancellation.
    ///
    /// - Parameter excluded: indices in `0..<count`, each at most once (duplicates are harmless).
    @discardableResult
    public static func inPlace<Excluded: Sequence<Int>>(
        _ x: UnsafeMutablePointer<Float>, count: Int, excluding excluded: Excluded
    ) -> Double {
        // -inf keeps excluded entries out of the maximum without a membership test per element,
        // which lets the passes below stay branch-free loops the compiler vectorises.
        for j in excluded { x[j] = -.infinity }
        var maximum = -Float.infinity
        for j in 0..<count where x[j] > maximum { maximum = x[j] }
        if maximum == -.infinity {
            // No included entry, or all included ones are -inf: nothing to normalise.
            x.update(repeating: 0, count: count)
            return -.infinity
        }
        for j in 0..<count { x[j] = VectorMath.exp(x[j] - maximum) }
        // VectorMath.exp clamps its input, so e^{-inf} came out as ~1e-38, not 0: zero them.
        for j in excluded { x[j] = 0 }
        let total = RowKernels.sum(x, count)
        RowKernels.scale(x, by: 1 / total, count)
        return Double(maximum) + Foundation.log(Double(total))
    }
}
