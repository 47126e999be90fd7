import COpenBLAS

/// Row-major matrix products on OpenBLAS, named the way the math reads.
///
/// All encoder and training matrix work goes through `BLAS.gemm`, so there is one place to
/// count FLOPs, pick threads or swap the backend.
public enum BLAS {
    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable {
        case none, transpose
        var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// `C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C`, all row-major.
    ///
    /// - Parameters:
    ///   - lda, ldb, ldc: row strides (elements) of A, B, C as stored.
    public static func gemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(
            CblasRowMajor, transA.cblas, transB.cblas,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets how many threads OpenBLAS itself may use for one call.
    ///
    /// densekit parallelises over batches with its own workers and then wants 1 here: two pools
    /// on two cores would oversubscribe them (see the platform notes).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The number of threads OpenBLAS uses per call.
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
