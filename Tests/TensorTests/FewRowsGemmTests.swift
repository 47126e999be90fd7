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
        for threads in [1, 2] {
            BLAS.setThreads(threads)
            let alpha: Float = threads == 1 ? 1 : 0.125  // attention scores are scaled by 1/sqrt(d)
            var c = [Float](repeating: .nan, count: m * ldc)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(.none, .transpose, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                  c: cp.baseAddress!, ldc: ldc)
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
        }
        BLAS.setThreads(1)
    }
}
