import CKernels
import Foundation
import DensekitTensor
import Testing

/// The C elementwise kernels at every instruction level the processor runs agree with
/// VectorMath (the Swift definition of GELU and its derivative) to float rounding.
@Suite struct CKernelsTests {
    static var levels: [Int32] { (0...ckernels_best_level()).map { $0 } }

    /// Inputs over GELU's whole range, and beyond the clamps of exp and erf; 203 of them so that
    /// the vector loops' tails run too.
    static let inputs: [Float] = (0..<203).map { -9 + 18 * Float($0) / 202 } + [0, -0.0, 1e-20, -1e-20]

    static func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 2e-6 * max(1, abs(b)) }

    @Test func geluMatchesVectorMathAtEveryLevel() {
        let bias: [Float] = [0.5, -0.25, 0]
        for level in Self.levels {
            var out = [Float](repeating: .nan, count: Self.inputs.count)
            ckernels_gelu(level, Self.inputs, nil, &out, 1, Self.inputs.count)
            for (x, y) in zip(Self.inputs, out) { #expect(Self.close(y, VectorMath.gelu(x)), "level \(level), x \(x): \(y)") }
            // With a bias per column, over rows.
            let rows = Array(Self.inputs.prefix(201))
            var biased = [Float](repeating: .nan, count: rows.count)
            ckernels_gelu(level, rows, bias, &biased, 67, 3)
            for (i, x) in rows.enumerated() {
                #expect(Self.close(biased[i], VectorMath.gelu(x + bias[i % 3])), "level \(level), row \(i / 3)")
            }
        }
    }

    @Test func geluBackwardMatchesTheDerivativeAtEveryLevel() {
        let dy = Self.inputs.indices.map { Float($0 % 7) - 3 }
        for level in Self.levels {
            var dx = [Float](repeating: .nan, count: dy.count)
            ckernels_gelu_backward(level, dy, Self.inputs, &dx, Self.inputs.count)
            for (i, x) in Self.inputs.enumerated() {
                // Φ(x) + x φ(x), in VectorMath's terms.
                let derivative = 0.5 * (1 + VectorMath.erf(x * 0.707_106_781_186_547_5)) + x * 0.398_942_280_401_432_7 * VectorMath.exp(-0.5 * x * x)
                #expect(Self.close(dx[i], dy[i] * derivative), "level \(level), x \(x)")
            }
        }
        // In place (dx aliasing dy), as the encoder's backward pass calls it.
        var inPlace = dy
        inPlace.withUnsafeMutableBufferPointer { ckernels_gelu_backward(CKERNELS_BEST, $0.baseAddress, Self.inputs, $0.baseAddress, dy.count) }
        var separate = [Float](repeating: 0, count: dy.count)
        ckernels_gelu_backward(CKERNELS_BEST, dy, Self.inputs, &separate, dy.count)
        #expect(inPlace == separate)
    }

    @Test func theBestLevelMatchesTheProcessor() {
        let cpu = CPUFeatures.current
        let expected: Int32 = cpu.has(.avx512f) ? CKERNELS_AVX512 : (cpu.hasAVX2FMA ? CKERNELS_AVX2 : CKERNELS_BASELINE)
        #expect(ckernels_best_level() == expected)
    }
}

extension CKernelsTests {
    /// Attention's softmax at every level: the definition, row by row, strided rows untouched
    /// past their width.
    @Test func softmaxMatchesTheDefinitionAtEveryLevel() {
        let width = 19, stride = 23, rows = 5
        let input = (0..<(rows * stride)).map { Float(($0 * 37) % 29) / 3 - 4 }
        for level in Self.levels {
            var x = input
            ckernels_softmax(level, &x, rows, width, stride)
            for r in 0..<rows {
                let row = Array(input[(r * stride)..<(r * stride + width)])
                let maximum = row.max()!
                let exps = row.map { Foundation.exp(Double($0 - maximum)) }
                let total = exps.reduce(0, +)
                for j in 0..<width {
                    #expect(abs(Double(x[r * stride + j]) - exps[j] / total) < 1e-6, "level \(level), row \(r)")
                }
                for j in width..<stride { #expect(x[r * stride + j] == input[r * stride + j]) }
            }
        }
    }
}
