import CKernels

/// Backward passes of the row kernels: given the gradient of the loss with respect to a
/// kernel's output, the gradient with respect to its input (and parameters).
extension RowKernels {
    /// Layer norm backward, from the forward pass's normalised values `x̂` and inverse std `r`.
    ///
    /// With `g = dy ⊙ γ`: `dx = r (g - mean(g) - x̂ mean(g ⊙ x̂))`, `dγ += Σ_rows dy ⊙ x̂`,
    /// `dβ += Σ_rows dy`. `dx` is written (not accumulated) and may alias `dy`.
    public static func layerNormBackward(
        _ dy: UnsafePointer<Float>, normalized: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, rows: Int, width: Int,
        into dx: UnsafeMutablePointer<Float>, gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let dyRow = dy + r * width, xhat = normalized + r * width, dxRow = dx + r * width
            var sumG: Float = 0, sumGX: Float = 0
            for j in 0..<width {
                let g = dyRow[j] * gamma[j]
                sumG += g
                sumGX += g * xhat[j]
                gammaGradient[j] += dyRow[j] * xhat[j]
                betaGradient[j] += dyRow[j]
            }
            let meanG = sumG / Float(width), meanGX = sumGX / Float(width), rstd = inverseStd[r]
            for j in 0..<width { dxRow[j] = rstd * (dyRow[j] * gamma[j] - meanG - xhat[j] * meanGX) }
        }
    }

    /// `dx = dy ⊙ gelu'(x)` for the exact GELU: `gelu'(x) = Φ(x) + x φ(x)`. May alias.
    /// Runs on the processor's widest vectors (`CKernels`), with VectorMath's exp and erf.
    public static func geluBackward(_ dy: UnsafePointer<Float>, input: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        ckernels_gelu_backward(CKERNELS_BEST, dy, input, dx, count)
    }

    /// `dx = dy ⊙ (1 - y²)` from the forward output `y = tanh(x)`. May alias.
    public static func tanhBackward(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { dx[j] = dy[j] * (1 - y[j] * y[j]) }
    }

    /// `dx = dy` where `x > 0`, else 0. May alias.
    public static func reluBackward(_ dy: UnsafePointer<Float>, input: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        for j in 0..<count { dx[j] = input[j] > 0 ? dy[j] : 0 }
    }

    /// Softmax backward over rows of `width` (row stride `stride`), in place on `gradient`:
    /// `ds = p ⊙ (dp - Σ p ⊙ dp)`, from the forward output `p`.
    public static func softmaxBackward(_ gradient: UnsafeMutablePointer<Float>, probabilities: UnsafePointer<Float>, rows: Int, width: Int, stride: Int) {
        for r in 0..<rows {
            let g = gradient + r * stride, p = probabilities + r * stride
            let inner = dot(g, p, width)
            for j in 0..<width { g[j] = p[j] * (g[j] - inner) }
        }
    }

    /// `bias += Σ_rows x`: a linear layer's bias gradient.
    public static func accumulateColumnSums(_ x: UnsafePointer<Float>, rows: Int, width: Int, into bias: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { add(bias, x + r * width, width) }
    }
}
