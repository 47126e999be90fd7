/// Branch-free `exp` and `erf` for the encoder's elementwise loops.
///
/// libm's `expf`/`erff` are opaque calls that stop loop vectorisation, and the encoder makes
/// billions of them (attention softmax, GELU). These forms are straight-line arithmetic and
/// bit casts, so loops that call them vectorise; they stay within a few ulp of libm.
///
/// They are written for scalars on purpose: Swift's `SIMD16` min/max and float-to-int
/// conversions compile to per-lane code, while LLVM's loop vectoriser turns these scalar
/// loops into packed instructions.
public enum VectorMath {
    /// `e^x` (Cephes-style: x = n ln2 + r, polynomial in r, then scale by 2^n).
    /// Inputs are clamped to about [-87.3, 88.7]; below that the result flushes to ~1e-38.
    @inlinable @inline(__always)
    public static func exp(_ input: Float) -> Float {
        let x = Swift.min(Swift.max(input, -87.3), 88.7)
        // Round x/ln2 to an integer by adding 1.5 * 2^23: the sum's low mantissa bits then hold
        // n as an integer, read back with a bit cast instead of a float-to-int conversion.
        let shifter: Float = 12_582_912
        let shifted = x * 1.442_695_040_888_963_4 + shifter
        let n = shifted - shifter
        // ln 2 split in two so that n * ln2 is exact enough for |n| up to 127.
        var r = x - n * 0.693_359_375
        r = r + n * 2.121_944_400_546_905_8e-4
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * (r * r) + r + 1
        let exponent = (shifted.bitPattern &- shifter.bitPattern &+ 127) &<< 23
        return p * Float(bitPattern: exponent)
    }

    /// `erf(x)`: a rational minimax form (as in Eigen's fast erf), max error ~1e-7.
    @inlinable @inline(__always)
    public static func erf(_ input: Float) -> Float {
        let x = Swift.min(Swift.max(input, -4), 4)
        let x2 = x * x
        var p = x2 * -2.726_142_258_013_06e-10 + 2.770_681_424_959_02e-08
        p = p * x2 + -2.101_024_020_825_08e-06
        p = p * x2 + -5.692_506_394_623_46e-05
        p = p * x2 + -7.349_906_303_268_55e-04
        p = p * x2 + -2.954_599_808_540_25e-03
        p = p * x2 + -1.609_603_332_624_15e-02
        p = p * x
        var q = x2 * -1.456_607_184_649_96e-05 + -2.133_740_552_789_05e-04
        q = q * x2 + -1.682_826_974_382_03e-03
        q = q * x2 + -7.373_329_167_204_68e-03
        q = q * x2 + -1.426_473_905_141_89e-02
        return p / q
    }

    /// `0.5 x (1 + erf(x / sqrt 2))`: BERT's exact GELU.
    @inlinable @inline(__always)
    public static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + erf(x * 0.707_106_781_186_547_5))
    }
}
