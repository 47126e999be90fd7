import DensekitTensor
import Foundation
import Testing

/// Row kernels against plain double-precision formulas, on widths that exercise both the
/// 16-lane body and the scalar tail.
@Suite struct RowKernelTests {
    var generator = SystemRandomNumberGenerator()

    func random(_ count: Int, scale: Float = 3) -> [Float] {
        (0..<count).map { _ in Float.random(in: -scale...scale) }
    }

    @Test(arguments: [1, 7, 16, 37, 384])
    func layerNormWithBiasAndResidual(width: Int) {
        let rows = 3
        var x = random(rows * width)
        let residual = random(rows * width), bias = random(width), gamma = random(width), beta = random(width)
        let input = x
        x.withUnsafeMutableBufferPointer { p in
            RowKernels.addLayerNorm(p.baseAddress!, rows: rows, width: width, bias: bias, residual: residual,
                                    gamma: gamma, beta: beta, epsilon: 1e-5)
        }
        for r in 0..<rows {
            let v = (0..<width).map { Double(input[r * width + $0]) + Double(bias[$0]) + Double(residual[r * width + $0]) }
            let mean = v.reduce(0, +) / Double(width)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            for j in 0..<width {
                let expected = (v[j] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[j]) + Double(beta[j])
                #expect(abs(Double(x[r * width + j]) - expected) < 1e-4 * max(1, abs(expected)))
            }
        }
    }

    @Test(arguments: [1, 5, 16, 33])
    func softmaxRowsSumToOneAndMatch(width: Int) {
        let stride = width + 3
        var x = random(2 * stride, scale: 20)
        let input = x
        x.withUnsafeMutableBufferPointer { RowKernels.softmax($0.baseAddress!, rows: 2, width: width, stride: stride) }
        for r in 0..<2 {
            let row = (0..<width).map { Double(input[r * stride + $0]) }
            let m = row.max()!
            let total = row.map { Foundation.exp($0 - m) }.reduce(0, +)
            for j in 0..<width {
                #expect(abs(Double(x[r * stride + j]) - Foundation.exp(row[j] - m) / total) < 1e-6)
            }
            // Entries past `width` are left alone.
            for j in width..<stride { #expect(x[r * stride + j] == input[r * stride + j]) }
        }
    }

    @Test(arguments: [3, 16, 50])
    func geluIsExactErfForm(width: Int) {
        var x = random(2 * width, scale: 6)
        let bias = random(width, scale: 1)
        let input = x
        x.withUnsafeMutableBufferPointer { RowKernels.addBiasGELU($0.baseAddress!, rows: 2, width: width, bias: bias) }
        for k in 0..<(2 * width) {
            let v = Double(input[k]) + Double(bias[k % width])
            let expected = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
            #expect(abs(Double(x[k]) - expected) < 2e-6 * max(1, abs(v)))
        }
    }

    @Test func l2NormalizeGivesUnitRowsAndKeepsZeroRows() {
        var x = random(20) + [Float](repeating: 0, count: 10)
        x.withUnsafeMutableBufferPointer { RowKernels.l2Normalize($0.baseAddress!, rows: 3, width: 10) }
        for r in 0..<2 {
            let norm = (0..<10).map { Double(x[r * 10 + $0]) * Double(x[r * 10 + $0]) }.reduce(0, +)
            #expect(abs(norm - 1) < 1e-6)
        }
        #expect(x[20..<30].allSatisfy { $0 == 0 })
    }

    @Test func gemmWrapperComputesRowMajorProducts() {
        let m = 5, n = 4, k = 3
        let a = random(m * k), b = random(n * k)
        var c = [Float](repeating: 0, count: m * n)
        c.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(.none, .transpose, m: m, n: n, k: k, alpha: 2, a: a, lda: k, b: b, ldb: k, c: cp.baseAddress!, ldc: n)
        }
        for i in 0..<m {
            for j in 0..<n {
                let expected = 2 * (0..<k).map { Double(a[i * k + $0]) * Double(b[j * k + $0]) }.reduce(0, +)
                #expect(abs(Double(c[i * n + j]) - expected) < 1e-5)
            }
        }
    }
}
