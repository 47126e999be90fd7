import COpenBLAS
import Testing

/// C = alpha * op(A) * op(B) + beta * C, row-major, the definition written out.
private func naiveGemm(
    m: Int, n: Int, k: Int, alpha: Float, a: [Float], transA: Bool, b: [Float], transB: Bool,
    beta: Float, c: [Float]
) -> [Float] {
    var result = c
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let aip = transA ? a[p * m + i] : a[i * k + p]
                let bpj = transB ? b[j * k + p] : b[p * n + j]
                sum += aip * bpj
            }
            result[i * n + j] = alpha * sum + beta * c[i * n + j]
        }
    }
    return result
}

@Test(arguments: [false, true], [false, true])
func sgemmMatchesNaiveLoop(transA: Bool, transB: Bool) {
    // Non-square and mutually prime sizes, so a swapped lda/ldb or m/n cannot pass by accident.
    let (m, n, k) = (37, 29, 53)
    var generator = SeededGenerator(seed: 42)
    let a = randomFloats(m * k, using: &generator)  // m x k, or k x m when transposed
    let b = randomFloats(k * n, using: &generator)  // k x n, or n x k when transposed
    let c = randomFloats(m * n, using: &generator)
    let alpha: Float = 1.5
    let beta: Float = 0.5

    var result = c
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
        beta, &result, Int32(n))

    let expected = naiveGemm(
        m: m, n: n, k: k, alpha: alpha, a: a, transA: transA, b: b, transB: transB, beta: beta, c: c)
    let maxError = zip(result, expected).map { abs($0 - $1) }.max() ?? 0
    #expect(maxError < 1e-4)
}

/// densekit sets OpenBLAS's pool per call site (1 inside workers, all cores for a lone batch):
/// the setting must take and read back.
@Test func openBLASThreadCountIsSetAndReadBack() {
    let before = openblas_get_num_threads()
    defer { openblas_set_num_threads(before) }
    openblas_set_num_threads(1)
    #expect(openblas_get_num_threads() == 1)
    openblas_set_num_threads(2)
    #expect(openblas_get_num_threads() == 2)
}
