import DensekitReport
import Foundation
import Testing

/// The paired tests against SciPy 1.x (`scipy.stats.ttest_rel`, `scipy.stats.t.sf`), and the
/// randomization test's behaviour where its answer is known.
struct PairedTestsTests {
    static let a = [0.5, 1, 0, 0.25, 1, 0.333, 0, 1, 0.5, 0.2]
    static let b = [1, 1, 0.5, 0.25, 0.5, 1, 0.1, 1, 1, 0.2]

    @Test func tTestMatchesSciPy() throws {
        let result = try #require(PairedTests.tTest(Self.a, Self.b))
        #expect(abs(result.t - 1.5681921403017742) < 1e-12)
        #expect(abs(result.p - 0.15128081012801983) < 1e-10)
        // Swapping the runs flips t, not p.
        let swapped = try #require(PairedTests.tTest(Self.b, Self.a))
        #expect(abs(swapped.t + result.t) < 1e-12 && abs(swapped.p - result.p) < 1e-12)
    }

    /// Two-sided p of Student's t from the incomplete beta function: 2 * t.sf(t, df) in SciPy.
    @Test(arguments: [(2.0, 10, 0.07338803477074037), (0.5, 3, 0.651447964848151), (5.0, 1999, 6.233156383431681e-07)])
    func studentTailMatchesSciPy(t: Double, df: Int, expected: Double) throws {
        // n = df + 1 differences with mean t * s / sqrt(n): build them from +-1 around a mean.
        let n = df + 1
        let base = (0..<n).map { $0 % 2 == 0 ? 1.0 : -1.0 }
        let centred = base.map { $0 - base.reduce(0, +) / Double(n) }
        let sd = (centred.reduce(0) { $0 + $1 * $1 } / Double(n - 1)).squareRoot()
        let shift = t * sd / Double(n).squareRoot()
        let result = try #require(PairedTests.tTest(Array(repeating: 0, count: n), centred.map { $0 + shift }))
        #expect(abs(result.t - t) < 1e-9)
        #expect(abs(result.p - expected) / expected < 1e-8, "p \(result.p) for t \(t), df \(df)")
    }

    @Test func degenerateInputs() {
        #expect(PairedTests.tTest([1], [2]) == nil)
        #expect(PairedTests.tTest([1, 2], [1, 2])?.p == 1)
        #expect(PairedTests.tTest([1, 2], [2, 3])?.p == 0)
        // Identical runs: every permutation is as extreme as the observed (zero) difference.
        #expect(PairedTests.randomization([0.5, 1, 0], [0.5, 1, 0], trials: 500) == 1)
    }

    @Test func randomizationIsSeededAndAgreesWithTheTTest() throws {
        let p = PairedTests.randomization(Self.a, Self.b, trials: 20_000, seed: 7)
        #expect(p == PairedTests.randomization(Self.a, Self.b, trials: 20_000, seed: 7))
        // With 10 queries there are only 2^10 sign patterns: p is their share as far out as the
        // observed one, counted exactly here.
        let d = zip(Self.b, Self.a).map { $0 - $1 }, observed = abs(d.reduce(0, +))
        let extreme = (0..<1024).filter { mask in
            abs(d.enumerated().reduce(0.0) { $0 + (mask >> $1.offset & 1 == 0 ? $1.element : -$1.element) }) >= observed - 1e-12
        }.count
        #expect(abs(p - Double(extreme) / 1024) < 0.01, "p \(p), exact \(Double(extreme) / 1024)")
        // Far apart runs: p is the smallest it can be.
        let low = (0..<200).map { Double($0 % 7) / 7 }
        #expect(PairedTests.randomization(low, low.map { $0 + 0.5 }, trials: 999) == 1.0 / 1000)
    }
}
