import CKernels
import DensekitTensor
import Testing

/// `BLAS.gemm` for few rows times a transposed weight runs densekit's own kernel: it must give
/// the product the definition gives, for every shape, stride and thread count.
@Suite struct FewRowsGemmTests {
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 &* 7919 &+ seed &* 104_729) % 2001) - 1000) / 997 }
    }

    @Test(arguments: [(1, 5, 3), (4, 2, 8), (3, 7, 37), (10, 1152, 384), (16, 385, 131), (32, 9, 33), (33, 9, 33)])
    func matchesTheDefinition(m: Int, n: Int, k: Int) {
        // Strides wider than the rows, as attention's Q and K slices of the QKV matrix are.
        let lda = k + 3, ldb = k + 5, ldc = n + 2
        let a = Self.values(m * lda, seed: 1), b = Self.values(n * ldb, seed: 2)
        // alpha 0.125: attention scores are scaled by 1/sqrt(d).
        for alpha: Float in [1, 0.125] {
            var byThreads: [[Float]] = []
            for threads in [1, 2, 3] {
                var c = [Float](repeating: .nan, count: m * ldc)
                BLAS.$fewRowsThreads.withValue(threads) {
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                BLAS.gemm(.none, .transpose, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                          c: cp.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                }
                var worst: Float = 0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Double = 0
                        for p in 0..<k { sum += Double(a[i * lda + p]) * Double(b[j * ldb + p]) }
                        let expected = Float(sum) * alpha
                        worst = max(worst, abs(c[i * ldc + j] - expected) / max(1, abs(expected)))
                    }
                    // Padding columns of C are left alone.
                    for j in n..<ldc { #expect(c[i * ldc + j].isNaN) }
                }
                #expect(worst < 1e-5, "m \(m) n \(n) k \(k), \(threads) threads: \(worst)")
                byThreads.append(c.enumerated().filter { $0.offset % ldc < n }.map(\.element))
            }
            // Splitting the columns over threads computes each element the same way.
            #expect(byThreads.allSatisfy { $0 == byThreads[0] }, "m \(m) n \(n) k \(k): results differ between thread counts")
        }
    }

    /// Every instruction level this processor runs (baseline, AVX2, AVX-512) gives the product
    /// the definition gives, also for row blocks and column ranges that start at odd places.
    @Test(arguments: [(1, 5, 3), (10, 1152, 384), (13, 7, 37), (25, 31, 1536), (32, 9, 33)])
    func everyLevelMatchesTheDefinition(m: Int, n: Int, k: Int) {
        let lda = k + 1, ldb = k + 2, ldc = n + 3
        let a = Self.values(m * lda, seed: 3), b = Self.values(n * ldb, seed: 4)
        for level in 0...ckernels_best_level() {
            var c = [Float](repeating: 1, count: m * ldc)
            // Columns in two ranges, the first of odd length: beta 0.5 adds half of C's 1s.
            for (j0, j1) in [(0, n / 2 | 1), (n / 2 | 1, n)] where j0 < min(j1, n) {
                ckernels_gemm_nt_rows(level, m, j0, min(j1, n), k, 0.25, a, lda, b, ldb, 0.5, &c, ldc)
            }
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    var sum: Double = 0
                    for p in 0..<k { sum += Double(a[i * lda + p]) * Double(b[j * ldb + p]) }
                    let expected = Float(sum) * 0.25 + 0.5
                    worst = max(worst, abs(c[i * ldc + j] - expected) / max(1, abs(expected)))
                }
                for j in n..<ldc { #expect(c[i * ldc + j] == 1, "padding column written") }
            }
            #expect(worst < 1e-5, "level \(level), m \(m) n \(n) k \(k): \(worst)")
        }
    }
}
