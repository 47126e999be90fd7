import CKernels
import COpenBLAS
import Dispatch

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
        if m <= fewRows, transA == .none, transB == .transpose, k > 0 {
            fewRowsTimesTransposed(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA.cblas, transB.cblas,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Up to this many rows, `x W^T` skips OpenBLAS (see `fewRowsTimesTransposed`).
    public static let fewRows = 32

    /// Threads a few-row product may split its columns over, bound for the duration of a call
    /// (`BLAS.$fewRowsThreads.withValue(n) { ... }`) by a caller whose cores would otherwise
    /// idle: a lone batch, as a single query is, on a machine with more cores than batches.
    /// OpenBLAS's own thread count stays 1 (one process-wide setting, see `BatchRunner`); this
    /// one belongs to the calling thread, so concurrent callers do not see each other's value.
    @TaskLocal public static var fewRowsThreads = 1

    /// `C = alpha A B^T + beta C` for at most `fewRows` rows of A: a linear layer applied to a short
    /// query, or a short sequence's attention scores. (Routing attention scores of longer
    /// sequences here, inner dimension 32, was measured 2% slower than OpenBLAS.)
    ///
    /// OpenBLAS packs all of B (the weight, up to 2.4 MB here) on every call, which for ten
    /// rows costs as much as the product itself: a single query's latency was two thirds
    /// packing. `CKernels` instead streams each row of B once and reuses it for every row of A.
    /// With `fewRowsThreads` > 1 (a lone batch, as a single query is) the columns are split over
    /// the cores; each element is computed by the same code whatever the split.
    static func fewRowsTimesTransposed(
        m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let parts = n * k >= 1 << 16 ? min(fewRowsThreads, max(1, n / 64)) : 1
        if parts <= 1 {
            ckernels_gemm_nt_rows(CKERNELS_BEST, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let operands = Operands(a: a, b: b, c: c)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            ckernels_gemm_nt_rows(CKERNELS_BEST, m, n * part / parts, n * (part + 1) / parts, k, alpha,
                                  operands.a, lda, operands.b, ldb, beta, operands.c, ldc)
        }
    }

    /// Pointers handed to the threads of one product (each writes its own columns of C).
    private struct Operands: @unchecked Sendable {
        let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
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
