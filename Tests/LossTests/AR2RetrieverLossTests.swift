import DensekitLosses
import Foundation
import Testing

/// AR2's retriever loss: its value against a double-precision transcription of the formula,
/// every gradient entry against central finite differences (tolerances as in `ScoreLossTests`),
/// lambda 0 equal to distillation by `SoftTargetCrossEntropyLoss`, the adversarial term's sign,
/// and its input checks.
@Suite struct AR2RetrieverLossTests {
    static let rows = ScoreLossTests.rows, columns = ScoreLossTests.columns

    /// `sum_i [lambda sum_{d>0} log sigmoid(z_0 - z_d) log p(d) - (1 - lambda) sum_d softmax(z/T)_d log p(d)]`.
    static func reference(_ s: [Double], z: [Float], lambda: Double, temperature: Double) -> Double {
        let n = columns
        var total = 0.0
        for i in 0..<rows {
            let row = (0..<n).map { s[i * n + $0] }, logits = (0..<n).map { Double(z[i * n + $0]) }
            let lse = ScoreLossTests.logSumExp(row)
            let rankLSE = ScoreLossTests.logSumExp(logits.map { $0 / temperature })
            for d in 0..<n {
                let logP = row[d] - lse
                let pRank = exp(logits[d] / temperature - rankLSE)
                let reward = d == 0 ? 0 : ScoreLossTests.logSigmoid(logits[0] - logits[d])
                total += lambda * reward * logP - (1 - lambda) * pRank * logP
            }
        }
        return total
    }

    @Test(arguments: [(0.5, 1), (0, 1), (1, 1), (0.3, 0.5), (0.8, 2)] as [(Float, Float)])
    func valueAndGradientMatchTheFormula(lambda: Float, temperature: Float) throws {
        for seed: UInt64 in [1, 2, 3] {
            let s = ScoreLossTests.scores(seed: seed), z = ScoreLossTests.scores(seed: seed &+ 50)
            let targets = try RankerLogits(values: z, rows: Self.rows, columns: Self.columns)
            let (value, gradient) = try ScoreLossTests.evaluate(AR2RetrieverLoss(lambda: lambda, temperature: temperature), s, targets: targets)
            let reference = { (s: [Double]) in Self.reference(s, z: z, lambda: Double(lambda), temperature: Double(temperature)) }
            let expected = reference(s.map(Double.init))
            #expect(abs(value - expected) <= 1e-5 * (1 + abs(expected)), "AR2 lambda \(lambda) T \(temperature) seed \(seed): \(value) vs \(expected)")
            _ = ScoreLossTests.expectGradientMatches(gradient, scores: s, "AR2 lambda \(lambda) T \(temperature) seed \(seed)", reference: reference)
        }
    }

    @Test func lambdaZeroIsDistillationFromTheRanker() throws {
        let s = ScoreLossTests.scores(seed: 7), z = ScoreLossTests.scores(seed: 8)
        let ar2 = try ScoreLossTests.evaluate(AR2RetrieverLoss(lambda: 0, temperature: 2), s,
                                              targets: try RankerLogits(values: z, rows: Self.rows, columns: Self.columns))
        let distribution = TargetDistribution.softmax(of: z, rows: Self.rows, columns: Self.columns, temperature: 2)
        let soft = try ScoreLossTests.evaluate(SoftTargetCrossEntropyLoss(temperature: 1), s, targets: distribution)
        #expect(abs(ar2.value - soft.value) <= 1e-4 * (1 + abs(soft.value)))
        for (a, b) in zip(ar2.gradient, soft.gradient) { #expect(abs(a - b) <= 1e-5) }
    }

    /// With lambda 1, the retriever is pushed towards the negative that fools the ranker: the
    /// loss falls as that negative's retriever score rises, and its gradient is the most negative.
    @Test func theAdversarialTermFavoursTheNegativeThatFoolsTheRanker() throws {
        // One row: the ranker scores negative 2 above the positive, negatives 1 and 3 far below.
        let z: [Float] = [2, -4, 3, -5]
        let targets = try RankerLogits(values: z, rows: 1, columns: 4)
        let loss = AR2RetrieverLoss(lambda: 1, temperature: 1)
        let (low, gradient) = try ScoreLossTests.evaluate(loss, [0, 0, 0, 0], rows: 1, columns: 4, targets: targets)
        let (high, _) = try ScoreLossTests.evaluate(loss, [0, 0, 1, 0], rows: 1, columns: 4, targets: targets)
        #expect(high < low)
        #expect(gradient[2] < gradient[1] && gradient[2] < gradient[3] && gradient[2] < 0)
    }

    @Test func badSettingsAndLogitsAreRefused() throws {
        let s = ScoreLossTests.scores(seed: 1), z = ScoreLossTests.scores(seed: 2)
        let targets = try RankerLogits(values: z, rows: Self.rows, columns: Self.columns)
        #expect(throws: LossInputError.invalidWeight(1.5)) { _ = try ScoreLossTests.evaluate(AR2RetrieverLoss(lambda: 1.5), s, targets: targets) }
        #expect(throws: LossInputError.invalidTemperature(0)) { _ = try ScoreLossTests.evaluate(AR2RetrieverLoss(temperature: 0), s, targets: targets) }
        var bad = z
        bad[7] = .nan
        #expect(throws: LossInputError.self) { _ = try RankerLogits(values: bad, rows: Self.rows, columns: Self.columns) }
        #expect(throws: LossInputError.self) { _ = try RankerLogits(values: z, rows: Self.rows, columns: Self.columns + 1) }
        let single = try RankerLogits(values: [1, 2], rows: 2, columns: 1)
        #expect(throws: LossInputError.noNegatives(query: 0)) { _ = try ScoreLossTests.evaluate(AR2RetrieverLoss(), [0, 0], rows: 2, columns: 1, targets: single) }
    }

    /// The grouped form a dual encoder trains with: on a `[B, B g]` score matrix it is the inner
    /// loss on each row's own group, and the other queries' candidates get no gradient.
    @Test func theGroupedLossIsTheInnerLossOnEachQuerysOwnGroup() throws {
        let b = 3, g = 4
        let full = ScoreLossTests.scores(seed: 11, rows: b, columns: b * g), z = ScoreLossTests.scores(seed: 12, rows: b, columns: g)
        let targets = try RankerLogits(values: z, rows: b, columns: g)
        let inner = AR2RetrieverLoss(lambda: 0.4, temperature: 1.5)
        let grouped = GroupedScoreLoss(similarity: .dot(), groupSize: g, inner: inner, targets: targets)
        let positives = try PositiveSets((0..<b).map { [$0 * g] }, candidateCount: b * g)
        try grouped.validate(positives)
        var gradient = full
        let value = gradient.withUnsafeMutableBufferPointer {
            grouped.lossAndGradient(overwriting: ScoreMatrix(values: $0.baseAddress!, rows: b, columns: b * g), positives: positives)
        }
        let block = (0..<b).flatMap { i in (0..<g).map { full[i * b * g + i * g + $0] } }
        let expected = try ScoreLossTests.evaluate(inner, block, rows: b, columns: g, targets: targets)
        #expect(abs(value - expected.value) <= 1e-9 * (1 + abs(value)))
        for i in 0..<b {
            for j in 0..<(b * g) {
                let own = j / g == i
                #expect(gradient[i * b * g + j] == (own ? expected.gradient[i * g + j % g] : 0), "row \(i), column \(j)")
            }
        }
        // A positive outside its own group, or a layout of the wrong width, is refused.
        #expect(throws: LossInputError.self) { try grouped.validate(try PositiveSets([[0], [0], [8]], candidateCount: b * g)) }
        #expect(throws: LossInputError.self) { try grouped.validate(try PositiveSets([[0], [4], [8]], candidateCount: b * g + 1)) }
    }
}
