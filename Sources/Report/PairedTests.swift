import Foundation

/// Paired significance tests on per-query values of two runs (same queries, same order), as
/// IR papers report them (Smucker, Allan and Carterette, CIKM 2007: the randomization test and
/// Student's paired t-test agree on IR metrics, the sign test and Wilcoxon do not).
public enum PairedTests {
    /// Two-sided paired t-test: t = mean(d) / (sd(d) / sqrt(n)) with n - 1 degrees of freedom,
    /// d = b - a. Nil for fewer than 2 queries; when every difference is the same (no variance),
    /// p is 1 if they are 0 and 0 otherwise.
    public static func tTest(_ a: [Double], _ b: [Double]) -> (t: Double, p: Double)? {
        precondition(a.count == b.count, "paired values: \(a.count) against \(b.count)")
        let n = a.count
        guard n >= 2 else { return nil }
        let d = zip(b, a).map { $0 - $1 }
        let mean = d.reduce(0, +) / Double(n)
        let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        guard variance > 0 else { return (mean == 0 ? 0 : mean > 0 ? .infinity : -.infinity, mean == 0 ? 1 : 0) }
        let t = mean / (variance / Double(n)).squareRoot()
        let df = Double(n - 1)
        return (t, regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5))
    }

    /// Two-sided paired randomization (permutation) test: each of `trials` draws swaps the two
    /// runs' values of each query with probability 1/2 (flips the sign of its difference); p is
    /// the share of draws whose mean difference is at least as far from 0 as the observed one,
    /// counting the observed assignment itself ((count + 1) / (trials + 1), so p is never 0).
    /// The same `seed` gives the same p.
    public static func randomization(_ a: [Double], _ b: [Double], trials: Int = 10_000, seed: UInt64 = 42) -> Double {
        precondition(a.count == b.count, "paired values: \(a.count) against \(b.count)")
        let d = zip(b, a).map { $0 - $1 }
        let observed = abs(d.reduce(0, +))
        // Sums are compared with a relative tolerance: a draw equal to the observed sum up to
        // rounding counts as "as far".
        let tolerance = 1e-12 * max(1, d.reduce(0) { $0 + abs($1) })
        var state = seed, extreme = 0
        for _ in 0..<trials {
            var sum = 0.0, bits: UInt64 = 0, left = 0
            for value in d {
                if left == 0 { bits = splitMix(&state); left = 64 }
                sum += bits & 1 == 0 ? value : -value
                bits >>= 1
                left -= 1
            }
            if abs(sum) >= observed - tolerance { extreme += 1 }
        }
        return Double(extreme + 1) / Double(trials + 1)
    }

    /// SplitMix64: a small, well-mixed generator whose stream depends only on the seed.
    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// I_x(a, b), the regularized incomplete beta function (Numerical Recipes' `betai`: a
    /// continued fraction by Lentz's method, on the side of x where it converges fast). For
    /// Student's t with df degrees of freedom, the two-sided p of t is I_{df/(df+t^2)}(df/2, 1/2).
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let front = exp(logGammas + logPowers)
        return x < (a + 1) / (a + b + 2) ? front * continuedFraction(x, a, b) / a : 1 - front * continuedFraction(1 - x, b, a) / b
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var h = d
        for m in 1...300 {
            let m = Double(m)
            let even: Double = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            let odd: Double = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            for numerator in [even, odd] {
                d = 1 + numerator * d
                d = 1 / (abs(d) < tiny ? tiny : d)
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                h *= d * c
            }
            if abs(d * c - 1) < 1e-15 { break }
        }
        return h
    }
}
