import DensekitTensor

/// Global gradient-norm clipping with `torch.nn.utils.clip_grad_norm_` semantics.
public enum GradientClipping {
    /// What one clipping call measured and did.
    public struct Report: Sendable, Equatable {
        /// The global L2 norm of the gradients before clipping (what torch returns).
        public let norm: Float
        /// The factor the gradients were multiplied by: 1 when they were left alone.
        public let factor: Float

        /// Whether the norm is finite. When it is not (a NaN or infinite gradient, or squares
        /// overflowing float32 as in torch), the gradients were left untouched: the trainer
        /// should stop or skip the step, never apply it.
        public var isFinite: Bool { norm.isFinite }
        /// Whether the gradients were scaled down.
        public var clipped: Bool { factor < 1 }
    }

    /// Floor torch adds to the norm before dividing (`max_norm / (total_norm + 1e-6)`).
    public static let epsilon: Float = 1e-6

    /// The L2 norm of `gradients`.
    ///
    /// Squares are summed in float32 SIMD lanes over blocks of 4,096 floats and the blocks in
    /// Double, so a vector of tens of millions of entries keeps ~7 significant digits instead of
    /// losing them to one long float sum.
    public static func norm(_ gradients: UnsafeBufferPointer<Float>) -> Float {
        guard let g = gradients.baseAddress else { return 0 }
        let block = 4096
        var total = 0.0
        var start = 0
        while start < gradients.count {
            let width = min(block, gradients.count - start)
            total += Double(RowKernels.dot(g + start, g + start, width))
            start += width
        }
        return Float(total.squareRoot())
    }

    /// Scales `gradients` in place so that their global L2 norm is at most `maxNorm`, and
    /// returns the norm they had.
    ///
    /// As torch: `factor = min(1, maxNorm / (norm + 1e-6))`, gradients multiplied by `factor`
    /// (so a norm just above `maxNorm` ends just below it). Unlike torch (which, with its default
    /// `error_if_nonfinite=False`, multiplies everything by NaN), a non-finite norm leaves the
    /// gradients as they were and is reported through `Report.isFinite`.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Report {
        precondition(maxNorm >= 0 && maxNorm.isFinite, "GradientClipping: maxNorm must be finite and >= 0, got \(maxNorm)")
        let total = norm(UnsafeBufferPointer(gradients))
        guard total.isFinite else { return Report(norm: total, factor: 1) }
        let factor = min(1, maxNorm / (total + epsilon))
        if factor < 1, let g = gradients.baseAddress {
            RowKernels.scale(g, by: factor, gradients.count)
        }
        return Report(norm: total, factor: factor)
    }

    /// `clip(_:maxNorm:)` on an array.
    @discardableResult
    public static func clip(_ gradients: inout [Float], maxNorm: Float) -> Report {
        gradients.withUnsafeMutableBufferPointer { clip($0, maxNorm: maxNorm) }
    }

    /// `norm(_:)` of an array.
    public static func norm(_ gradients: [Float]) -> Float {
        gradients.withUnsafeBufferPointer { norm($0) }
    }
}
