import DensekitTensor
import Foundation
import Testing

@Suite struct VectorMathTests {
    /// The SIMD exp must stay within a few float ulps of libm's over the softmax range
    /// (arguments are max-subtracted, so <= 0), and within relative 1e-6 elsewhere.
    @Test func expMatchesLibm() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            let expected = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(VectorMath.exp(x)) - expected) / expected)
            x += 0.000_713
        }
        #expect(worst < 1e-6, "max relative error \(worst)")
    }

    @Test func expUnderflowsToZeroNotGarbage() {
        let got = VectorMath.exp(-1e30)
        #expect(got < 1e-37 && got >= 0)
        #expect(VectorMath.exp(0) == 1)
    }

    /// GELU uses erf on values of any size; the rational form is accurate to ~1e-7 absolute.
    @Test func erfMatchesLibm() {
        var worst: Double = 0
        var x: Float = -6
        while x < 6 {
            worst = max(worst, abs(Double(VectorMath.erf(x)) - Foundation.erf(Double(x))))
            x += 0.000_37
        }
        #expect(worst < 5e-7, "max absolute error \(worst)")
    }
}
