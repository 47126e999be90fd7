import DensekitLosses
import Foundation
import Testing

/// The score losses (cross-encoder losses on a score matrix): values against a double-precision
/// transcription of each formula, every gradient entry against central finite differences of it,
/// the relations between the losses, target validation, and stability at large logits.
///
/// Tolerances as in `GradientCheckTests`: the finite differences (Double, h = 1e-5) are exact to
/// ~1e-7 on these inputs (scores ~N(0, 3), so third derivatives are O(1) and truncation is
/// ~h^2 = 1e-10; rounding ~1e-16 * |L| / h ~ 1e-10); the production side runs in float32, ~1e-7
/// relative per entry. Measured (DENSEKIT_TEST_VERBOSE=1 prints it): max |analytic - fd| 8.5e-8
/// for BCE, 7.6e-8 listwise, 2.2e-7 soft-target CE (at T = 0.5). Hence
/// `|analytic - fd| <= 2e-5 * (1 + |fd|)`: ~100x the worst measured error, and far below what a
/// formula mistake costs (a missing 1/columns, 1/T or pos_weight changes entries by 1e-2 or more).
@Suite struct ScoreLossTests {
    static let rows = 4, columns = 6
    /// Hard targets with extra listed positives in rows 1 and 3 (kept out of the denominator).
    static let positives = [[0], [2, 5], [1], [3, 0, 4]]

    // MARK: Fixtures

    /// A `rows x columns` matrix of N(0, 3) scores.
    static func scores(seed: UInt64, rows: Int = rows, columns: Int = columns) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return generator.normals(rows * columns).map { 3 * $0 }
    }

    /// Hard 0/1 labels, or uniform soft labels in [0, 1].
    static func labels(seed: UInt64, soft: Bool) -> [Float] {
        var generator = SeededGenerator(seed: seed &+ 100)
        return (0..<(rows * columns)).map { _ in
            soft ? Float.random(in: 0...1, using: &generator) : (Bool.random(using: &generator) ? 1 : 0)
        }
    }

    /// Random distributions (softmax of N(0, 1) scores), with row 2 replaced by a sparse row whose
    /// zeros must cost nothing.
    static func distribution(seed: UInt64) throws -> TargetDistribution {
        var generator = SeededGenerator(seed: seed &+ 200)
        var values = TargetDistribution.softmax(of: generator.normals(rows * columns), rows: rows, columns: columns).values
        let sparse: [Float] = [0.5, 0, 0.25, 0, 0.25, 0]
        for j in 0..<columns { values[2 * columns + j] = sparse[j] }
        return try TargetDistribution(values: values, rows: rows, columns: columns)
    }

    /// Validates, then runs `loss` on a copy of `scores`: `(sum_i L_i, d(sum_i L_i)/dS)`.
    static func evaluate<Loss: ScoreLoss>(
        _ loss: Loss, _ scores: [Float], rows: Int = rows, columns: Int = columns, targets: Loss.Targets
    ) throws(LossInputError) -> (value: Double, gradient: [Float]) {
        var gradient = scores
        let result: Result<Double, LossInputError> = gradient.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .failure(.emptyBatch) }
            let matrix = ScoreMatrix(values: base, rows: rows, columns: columns)
            return Result { () throws(LossInputError) in
                try loss.validate(targets, for: matrix)
                return loss.lossAndGradient(overwriting: matrix, targets: targets)
            }
        }
        return (try result.get(), gradient)
    }

    // MARK: Double references (sums over rows, like the losses)

    static func logSigmoid(_ x: Double) -> Double { -log1p(exp(-x)) }

    static func logSumExp(_ xs: [Double]) -> Double {
        let top = xs.max() ?? -.infinity
        return top + log(xs.reduce(0) { $0 + exp($1 - top) })
    }

    /// `sum_i (1/columns) sum_j -[w y log σ(s) + (1 - y) log(1 - σ(s))]`, with `1 - σ(s) = σ(-s)`.
    static func binaryCrossEntropy(_ s: [Double], labels y: [Float], posWeight w: Double, columns: Int = columns) -> Double {
        var total = 0.0
        for k in s.indices {
            let yk = Double(y[k])
            total -= (w * yk * logSigmoid(s[k]) + (1 - yk) * logSigmoid(-s[k])) / Double(columns)
        }
        return total
    }

    /// `sum_i [-s_it + log sum_{j == t or j not in positives[i]} e^{s_ij}]`.
    static func listwise(_ s: [Double], positives: [[Int]], columns: Int = columns) -> Double {
        var total = 0.0
        for (i, list) in positives.enumerated() {
            let t = list[0]
            let kept = (0..<columns).filter { $0 == t || !list.contains($0) }
            total += -s[i * columns + t] + logSumExp(kept.map { s[i * columns + $0] })
        }
        return total
    }

    /// `sum_i -sum_j t_ij log softmax(s_i / T)_j`.
    static func softCrossEntropy(_ s: [Double], targets: TargetDistribution, temperature: Double) -> Double {
        let n = targets.columns
        var total = 0.0
        for i in 0..<targets.rows {
            let x = (0..<n).map { s[i * n + $0] / temperature }
            let lse = logSumExp(x)
            for j in 0..<n { total -= Double(targets[i, j]) * (x[j] - lse) }
        }
        return total
    }

    /// Checks every entry of `gradient` against central differences of `reference` at `scores`,
    /// and that the gradient is not trivially zero. Returns the largest |analytic - fd|.
    static func expectGradientMatches(
        _ gradient: [Float], scores: [Float], _ label: String, reference: ([Double]) -> Double
    ) -> Double {
        var s = scores.map(Double.init)
        let h = 1e-5
        var worst = 0.0
        for k in s.indices {
            let saved = s[k]
            s[k] = saved + h; let up = reference(s)
            s[k] = saved - h; let down = reference(s)
            s[k] = saved
            let fd = (up - down) / (2 * h), analytic = Double(gradient[k])
            worst = max(worst, abs(analytic - fd))
            #expect(abs(analytic - fd) <= 2e-5 * (1 + abs(fd)), "\(label): dL/dS[\(k)] \(analytic) vs \(fd)")
        }
        #expect(gradient.contains { abs($0) > 1e-3 }, "\(label): gradient is (nearly) zero")
        if ProcessInfoFlags.verbose { print("\(label): max |analytic - fd| = \(worst)") }
        return worst
    }

    // MARK: Values and gradients

    @Test(arguments: [(1, false), (1, true), (5, false), (5, true)] as [(Float, Bool)])
    func binaryCrossEntropyMatchesReference(posWeight: Float, soft: Bool) throws {
        for seed: UInt64 in [1, 2, 3] {
            let s = Self.scores(seed: seed), y = Self.labels(seed: seed, soft: soft)
            let labels = try BinaryLabels(values: y, rows: Self.rows, columns: Self.columns)
            let (value, gradient) = try Self.evaluate(BinaryCrossEntropyLoss(posWeight: posWeight), s, targets: labels)
            let reference = { (s: [Double]) in Self.binaryCrossEntropy(s, labels: y, posWeight: Double(posWeight)) }
            let expected = reference(s.map(Double.init))
            #expect(abs(value - expected) <= 1e-5 * (1 + abs(expected)), "BCE w \(posWeight) soft \(soft) seed \(seed)")
            _ = Self.expectGradientMatches(gradient, scores: s, "BCE w \(posWeight) soft \(soft) seed \(seed)", reference: reference)
        }
    }

    @Test func listwiseMatchesReference() throws {
        for seed: UInt64 in [1, 2, 3] {
            let s = Self.scores(seed: seed)
            let positives = try PositiveSets(Self.positives, candidateCount: Self.columns)
            let (value, gradient) = try Self.evaluate(ListwiseCrossEntropyLoss(), s, targets: positives)
            let reference = { (s: [Double]) in Self.listwise(s, positives: Self.positives) }
            let expected = reference(s.map(Double.init))
            #expect(abs(value - expected) <= 1e-5 * (1 + abs(expected)), "listwise seed \(seed)")
            _ = Self.expectGradientMatches(gradient, scores: s, "listwise seed \(seed)", reference: reference)
            // The extra listed positives are out of the softmax: exactly zero gradient.
            #expect(gradient[1 * Self.columns + 5] == 0 && gradient[3 * Self.columns + 0] == 0 && gradient[3 * Self.columns + 4] == 0)
        }
    }

    @Test(arguments: [1, 0.5] as [Float])
    func softTargetCrossEntropyMatchesReference(temperature: Float) throws {
        for seed: UInt64 in [1, 2, 3] {
            let s = Self.scores(seed: seed), targets = try Self.distribution(seed: seed)
            let (value, gradient) = try Self.evaluate(SoftTargetCrossEntropyLoss(temperature: temperature), s, targets: targets)
            let reference = { (s: [Double]) in Self.softCrossEntropy(s, targets: targets, temperature: Double(temperature)) }
            let expected = reference(s.map(Double.init))
            #expect(abs(value - expected) <= 1e-5 * (1 + abs(expected)), "soft CE T \(temperature) seed \(seed)")
            _ = Self.expectGradientMatches(gradient, scores: s, "soft CE T \(temperature) seed \(seed)", reference: reference)
        }
    }

    // MARK: Relations

    /// `ListwiseCrossEntropyLoss` is `InfoNCELoss`'s score loss: same code path, bit-identical.
    @Test func listwiseIsInfoNCEScoreLoss() throws {
        for seed: UInt64 in [4, 5] {
            let s = Self.scores(seed: seed)
            let positives = try PositiveSets(Self.positives, candidateCount: Self.columns)
            let listwise = try Self.evaluate(ListwiseCrossEntropyLoss(), s, targets: positives)
            // Through the generic ScoreLoss entry point, so the ContrastiveLoss conformance is what runs.
            let info = try Self.evaluate(InfoNCELoss(), s, targets: positives)
            #expect(listwise.value == info.value)
            #expect(listwise.gradient == info.gradient)
        }
    }

    /// One-hot targets at temperature 1 make the soft loss the listwise one.
    @Test func softTargetWithOneHotIsListwise() throws {
        let targetsByRow = [0, 3, 5, 1]
        var oneHot = [Float](repeating: 0, count: Self.rows * Self.columns)
        for (i, t) in targetsByRow.enumerated() { oneHot[i * Self.columns + t] = 1 }
        let distribution = try TargetDistribution(values: oneHot, rows: Self.rows, columns: Self.columns)
        let positives = try PositiveSets(targetsByRow.map { [$0] }, candidateCount: Self.columns)
        for seed: UInt64 in [6, 7] {
            let s = Self.scores(seed: seed)
            let soft = try Self.evaluate(SoftTargetCrossEntropyLoss(), s, targets: distribution)
            let listwise = try Self.evaluate(ListwiseCrossEntropyLoss(), s, targets: positives)
            #expect(abs(soft.value - listwise.value) <= 1e-6 * (1 + abs(listwise.value)))
            #expect(zip(soft.gradient, listwise.gradient).allSatisfy { abs($0 - $1) <= 1e-6 })
        }
    }

    /// Cross-entropy minus the targets' entropy is KL(t || p), torch's `kl_div(log p, t)`: the
    /// offset depends on the targets only.
    @Test func softTargetIsKLPlusTargetEntropy() throws {
        let s = Self.scores(seed: 8), targets = try Self.distribution(seed: 8)
        let temperature = 0.5
        let (value, _) = try Self.evaluate(SoftTargetCrossEntropyLoss(temperature: Float(temperature)), s, targets: targets)
        var kl = 0.0, entropy = 0.0
        for i in 0..<Self.rows {
            let x = (0..<Self.columns).map { Double(s[i * Self.columns + $0]) / temperature }
            let lse = Self.logSumExp(x)
            for j in 0..<Self.columns {
                let t = Double(targets[i, j])
                guard t > 0 else { continue }                  // 0 log 0 = 0
                kl += t * (log(t) - (x[j] - lse))
                entropy -= t * log(t)
            }
        }
        #expect(abs(value - (kl + entropy)) <= 1e-5 * (1 + abs(value)))
    }

    /// With posWeight 1 the mean over rows is torch's `BCEWithLogitsLoss()` (mean over every
    /// element, written as torch's formula with `log(1 - σ)`), however the entries are laid out in
    /// rows; with a pos_weight it is torch's stable form `(1 - y) x + (1 + (w - 1) y) softplus(-x)`.
    @Test func binaryCrossEntropyIsTorchsMean() throws {
        let s = Self.scores(seed: 9).map { $0 / 3 }            // moderate logits: 1 - σ is exact enough
        let y = Self.labels(seed: 9, soft: true)
        let count = Double(s.count)
        var torchMean = 0.0
        for k in s.indices {
            let x = Double(s[k]), yk = Double(y[k]), sigma = 1 / (1 + exp(-x))
            torchMean -= (yk * log(sigma) + (1 - yk) * log(1 - sigma)) / count
        }
        let labels = try BinaryLabels(values: y, rows: Self.rows, columns: Self.columns)
        let grouped = try Self.evaluate(BinaryCrossEntropyLoss(), s, targets: labels)
        #expect(abs(grouped.value / Double(Self.rows) - torchMean) <= 1e-6)
        // One pair per row (sentence-transformers' flattened layout): the same mean.
        let flatLabels = try BinaryLabels(values: y, rows: s.count, columns: 1)
        let flat = try Self.evaluate(BinaryCrossEntropyLoss(), s, rows: s.count, columns: 1, targets: flatLabels)
        #expect(abs(flat.value / count - torchMean) <= 1e-6)

        let w = 5.0
        var torchWeighted = 0.0
        for k in s.indices {
            let x = Double(s[k]), yk = Double(y[k])
            torchWeighted += ((1 - yk) * x + (1 + (w - 1) * yk) * (log1p(exp(-abs(x))) + max(-x, 0))) / count
        }
        let weighted = try Self.evaluate(BinaryCrossEntropyLoss(posWeight: Float(w)), s, targets: labels)
        #expect(abs(weighted.value / Double(Self.rows) - torchWeighted) <= 1e-6 * (1 + torchWeighted))
    }

    // MARK: Validation

    func error<T>(_ body: () throws(LossInputError) -> T) -> LossInputError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func targetDistributionValidation() {
        // Row 1 sums to 0.7.
        let short = error { () throws(LossInputError) in
            try TargetDistribution(values: [0.5, 0.5, 0.3, 0.4], rows: 2, columns: 2)
        }
        if case .targetRowSum(let row, let sum) = short {
            #expect(row == 1 && abs(sum - 0.7) < 1e-6)
        } else {
            Issue.record("expected targetRowSum, got \(String(describing: short))")
        }
        #expect(short?.description.contains("row 1") == true)
        // A negative entry, even in a row that sums to 1.
        #expect(error { () throws(LossInputError) in try TargetDistribution(values: [1.1, -0.1, 0.5, 0.5], rows: 2, columns: 2) }
                == .invalidTargetProbability(row: 0, column: 1, value: -0.1))
        let nan = error { () throws(LossInputError) in try TargetDistribution(values: [1, 0, .nan, 1], rows: 2, columns: 2) }
        if case .invalidTargetProbability(1, 0, let value) = nan { #expect(value.isNaN) } else {
            Issue.record("expected invalidTargetProbability, got \(String(describing: nan))")
        }
        #expect(error { () throws(LossInputError) in try TargetDistribution(values: [1, 0, 1], rows: 2, columns: 2) }
                == .invalidTargetShape(count: 3, rows: 2, columns: 2))
        #expect(error { () throws(LossInputError) in try TargetDistribution(values: [], rows: 0, columns: 3) }
                == .invalidTargetShape(count: 0, rows: 0, columns: 3))
        // Within the tolerance is accepted.
        #expect(error { () throws(LossInputError) in try TargetDistribution(values: [0.50004, 0.5], rows: 1, columns: 2) } == nil)
    }

    @Test func binaryLabelValidation() {
        let nan = error { () throws(LossInputError) in try BinaryLabels(values: [0, 1, 0.5, .nan], rows: 2, columns: 2) }
        if case .labelOutOfRange(1, 1, let value) = nan { #expect(value.isNaN) } else {
            Issue.record("expected labelOutOfRange, got \(String(describing: nan))")
        }
        #expect(error { () throws(LossInputError) in try BinaryLabels(values: [0, 1, 0, 0, 0, 1.5], rows: 2, columns: 3) }
                == .labelOutOfRange(row: 1, column: 2, value: 1.5))
        #expect(error { () throws(LossInputError) in try BinaryLabels(values: [-0.01, 1], rows: 1, columns: 2) }
                == .labelOutOfRange(row: 0, column: 0, value: -0.01))
        #expect(error { () throws(LossInputError) in try BinaryLabels(values: [.infinity], rows: 1, columns: 1) }
                == .labelOutOfRange(row: 0, column: 0, value: .infinity))
        #expect(error { () throws(LossInputError) in try BinaryLabels(values: [0, 1], rows: 1, columns: 3) }
                == .invalidTargetShape(count: 2, rows: 1, columns: 3))
    }

    @Test func lossSettingsAndShapesAreValidated() throws {
        let s: [Float] = [1, 2, 3, 4, 5, 6]                     // 2 x 3
        let labels = try BinaryLabels(values: [1, 0, 0, 0, 1, 0], rows: 3, columns: 2)
        #expect(error { () throws(LossInputError) in try Self.evaluate(BinaryCrossEntropyLoss(), s, rows: 2, columns: 3, targets: labels) }
                == .targetsDoNotMatchScores(targetRows: 3, targetColumns: 2, scoreRows: 2, scoreColumns: 3))
        let rightLabels = try BinaryLabels(values: [1, 0, 0, 0, 1, 0], rows: 2, columns: 3)
        #expect(error { () throws(LossInputError) in
            try Self.evaluate(BinaryCrossEntropyLoss(posWeight: -1), s, rows: 2, columns: 3, targets: rightLabels)
        } == .invalidPositiveWeight(-1))
        let uniform = try TargetDistribution(values: [Float](repeating: 1.0 / 3, count: 6), rows: 2, columns: 3)
        #expect(error { () throws(LossInputError) in
            try Self.evaluate(SoftTargetCrossEntropyLoss(temperature: 0), s, rows: 2, columns: 3, targets: uniform)
        } == .invalidTemperature(0))
        let positives = try PositiveSets([[0], [1]], candidateCount: 4)
        #expect(error { () throws(LossInputError) in try Self.evaluate(ListwiseCrossEntropyLoss(), s, rows: 2, columns: 3, targets: positives) }
                == .targetsDoNotMatchScores(targetRows: 2, targetColumns: 4, scoreRows: 2, scoreColumns: 3))
        // A contrastive loss's own check runs through ScoreLoss.validate(_:for:) too.
        let full = try PositiveSets([[0], [1, 2, 0]], candidateCount: 3)
        #expect(error { () throws(LossInputError) in try Self.evaluate(DecoupledContrastiveLoss(), s, rows: 2, columns: 3, targets: full) }
                == .noNegatives(query: 1))
    }

    @Test func softmaxTargetsAreDistributions() throws {
        let s = Self.scores(seed: 10)
        for temperature: Float in [1, 0.5, 0.05] {
            let p = TargetDistribution.softmax(of: s, rows: Self.rows, columns: Self.columns, temperature: temperature)
            // Valid for the checked initialiser, and the reference softmax to Float precision.
            #expect(error { () throws(LossInputError) in try TargetDistribution(values: p.values, rows: p.rows, columns: p.columns) } == nil)
            for i in 0..<Self.rows {
                let x = (0..<Self.columns).map { Double(s[i * Self.columns + $0]) / Double(temperature) }
                let lse = Self.logSumExp(x)
                for j in 0..<Self.columns { #expect(abs(Double(p[i, j]) - exp(x[j] - lse)) <= 1e-6) }
            }
        }
        // Stable where e^{s / T} overflows Float and Double alike.
        let large = TargetDistribution.softmax(of: [1000, -1000, 999], rows: 1, columns: 3, temperature: 0.01)
        #expect(large.values.allSatisfy(\.isFinite) && abs(large[0, 0] - 1) < 1e-6)
    }

    // MARK: Stability

    @Test func finiteAtLogitsOfHundred() throws {
        let s: [Float] = (0..<(Self.rows * Self.columns)).map { ($0 * 7 % 3 == 0) ? 100 : -100 }
        func expectFinite(_ result: (value: Double, gradient: [Float]), _ label: String, reference: Double) {
            #expect(result.value.isFinite && result.gradient.allSatisfy(\.isFinite), "\(label)")
            #expect(abs(result.value - reference) <= 1e-5 * (1 + abs(reference)), "\(label): \(result.value) vs \(reference)")
        }
        let sd = s.map(Double.init)
        for soft in [false, true] {
            let y = Self.labels(seed: 11, soft: soft)
            let labels = try BinaryLabels(values: y, rows: Self.rows, columns: Self.columns)
            for w: Float in [1, 5] {
                expectFinite(try Self.evaluate(BinaryCrossEntropyLoss(posWeight: w), s, targets: labels), "BCE w \(w) soft \(soft)",
                             reference: Self.binaryCrossEntropy(sd, labels: y, posWeight: Double(w)))
            }
        }
        let positives = try PositiveSets(Self.positives, candidateCount: Self.columns)
        expectFinite(try Self.evaluate(ListwiseCrossEntropyLoss(), s, targets: positives), "listwise",
                     reference: Self.listwise(sd, positives: Self.positives))
        // Targets with mass on -100 entries, where p underflows.
        let targets = try Self.distribution(seed: 11)
        for temperature: Float in [1, 0.5] {
            expectFinite(try Self.evaluate(SoftTargetCrossEntropyLoss(temperature: temperature), s, targets: targets),
                         "soft CE T \(temperature)",
                         reference: Self.softCrossEntropy(sd, targets: targets, temperature: Double(temperature)))
        }
    }
}
