/// A linear layer `y = x Wᵀ + b` over row-major `[rows, inputWidth]` inputs, with its backward
/// pass beside it. Weights keep PyTorch's `[outputWidth, inputWidth]` layout.
///
/// Forward and backward are the three GEMMs of the math:
///
///     y  = x Wᵀ + b          [rows, out]
///     dW += dyᵀ x            [out, in]    (accumulated: chunks of a batch add up)
///     db += Σ_rows dy        [out]
///     dx  = dy W             [rows, in]   (or += when the input also feeds a residual path)
public enum Linear {
    /// `y = x Wᵀ + b` (`bias` nil: no bias). The bias is written first and the GEMM adds to it
    /// (beta 1), which saves OpenBLAS's separate pass that zeroes `y`.
    public static func forward(_ x: UnsafePointer<Float>, rows: Int, inputWidth: Int, outputWidth: Int,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        if let bias { RowKernels.fillRows(y, rows: rows, width: outputWidth, with: bias) }
        BLAS.gemm(.none, .transpose, m: rows, n: outputWidth, k: inputWidth, a: x, lda: inputWidth, b: weight, ldb: inputWidth,
                  beta: bias == nil ? 0 : 1, c: y, ldc: outputWidth)
    }

    /// Backward of `forward`: `dW += dyᵀ x`, `db += Σ dy` (when `biasGradient` is given), and
    /// `dx = dy W` written into `inputGradient` (added to it when `accumulate`; skipped when nil,
    /// for a layer whose input needs no gradient).
    public static func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int, inputWidth: Int, outputWidth: Int,
                                weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                                biasGradient: UnsafeMutablePointer<Float>?,
                                inputGradient dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false) {
        BLAS.gemm(.transpose, .none, m: outputWidth, n: inputWidth, k: rows, a: dy, lda: outputWidth, b: x, ldb: inputWidth,
                  beta: 1, c: weightGradient, ldc: inputWidth)
        if let biasGradient { RowKernels.accumulateColumnSums(dy, rows: rows, width: outputWidth, into: biasGradient) }
        if let dx {
            BLAS.gemm(.none, .none, m: rows, n: inputWidth, k: outputWidth, a: dy, lda: outputWidth, b: weight, ldb: inputWidth,
                      beta: accumulate ? 1 : 0, c: dx, ldc: inputWidth)
        }
    }
}
