import DensekitLosses
import DensekitTensor
import Foundation
import Testing

/// Hard-negative mixing (MoCHi): where the synthetics come from, what they are, and the loss's
/// gradient with them, against the double-precision reference with the synthetics held fixed.
@Suite struct HardNegativeMixingTests {
    static let mixing = HardNegativeMixing(hardest: 3, negatives: 2, query: 2)

    /// Runs the loss with mixing on; returns the output, the synthetics and the generator after.
    func mixed(_ kind: ReferenceLoss.Kind, _ similarity: Similarity, _ batch: SmallBatch, mixing: HardNegativeMixing = Self.mixing,
               seed: UInt64 = 7) throws -> (LossOutput, SyntheticNegatives?, RandomSource) {
        var random = RandomSource(seed: seed)
        let loss = makeLoss(kind, similarity)
        let result = try batch.queries.withUnsafeBufferPointer { q in
            try batch.candidates.withUnsafeBufferPointer { p in
                try loss(queries: q, candidates: p, dimension: SmallBatch.dimension, positives: SmallBatch.positives,
                         mixing: mixing, random: &random)
            }
        }
        return (result.output, result.synthetics, random)
    }

    /// Same tolerance argument as `GradientCheckTests`: each synthetic is one more column of the
    /// same size as the real ones.
    @Test(arguments: ReferenceLoss.Kind.allCases, SimilarityCase.allCases)
    func gradientOfTheRealInputsMatchesFiniteDifferencesWithSyntheticsFixed(kind: ReferenceLoss.Kind, similarity: SimilarityCase) throws {
        let d = SmallBatch.dimension
        for seed: UInt64 in [1, 2, 3] {
            let batch = SmallBatch(seed: seed)
            let (output, drawn, _) = try mixed(kind, similarity.similarity, batch, seed: seed)
            let synthetics = try #require(drawn)
            let h = synthetics.vectors.map(Double.init)
            let fixed: [[[Double]]] = (0..<SmallBatch.queryCount).map { i in
                (0..<synthetics.perQuery).map { k in Array(h[((i * synthetics.perQuery + k) * d)..<((i * synthetics.perQuery + k + 1) * d)]) }
            }
            let cosine = similarity.similarity.normalizes, scale = Double(similarity.similarity.scale)
            var q = batch.queries.map(Double.init), p = batch.candidates.map(Double.init)
            func reference() -> Double {
                ReferenceLoss.loss(kind, q: q, p: p, dimension: d, positives: SmallBatch.positives, cosine: cosine, scale: scale, synthetic: fixed)
            }
            let value = reference()
            #expect(abs(Double(output.value) - value) <= 1e-5 * (1 + abs(value)), "value, seed \(seed)")
            // The synthetics change the loss: this is not the plain loss passing by.
            let plain = ReferenceLoss.loss(kind, q: q, p: p, dimension: d, positives: SmallBatch.positives, cosine: cosine, scale: scale)
            #expect(abs(plain - value) > 1e-4, "mixing changed nothing, seed \(seed)")

            let step = 1e-5
            // Central differences of every entry of Q (queries: true) or P.
            func check(queries: Bool, _ analytic: [Float], _ name: String) {
                for index in (queries ? q : p).indices {
                    func value(at x: Double) -> Double {
                        if queries { q[index] = x } else { p[index] = x }
                        return reference()
                    }
                    let saved = queries ? q[index] : p[index]
                    let up = value(at: saved + step), down = value(at: saved - step)
                    _ = value(at: saved)
                    let fd = (up - down) / (2 * step)
                    #expect(abs(Double(analytic[index]) - fd) <= 2e-5 * (1 + abs(fd)), "\(name)[\(index)], seed \(seed): \(analytic[index]) vs \(fd)")
                }
            }
            check(queries: true, output.queryGradient, "dL/dQ")
            check(queries: false, output.candidateGradient, "dL/dP")
            // The fixed-synthetics entry point gives the same output.
            let loss = makeLoss(kind, similarity.similarity)
            let again = try loss(queries: batch.queries, candidates: batch.candidates, dimension: d,
                                 positives: SmallBatch.positives, synthetics: synthetics)
            #expect(again == output)
        }
    }

    @Test func syntheticsComeFromTheQuerysOwnHardestNegativesNeverAPositive() throws {
        let d = SmallBatch.dimension
        for seed: UInt64 in 1...20 {
            let batch = SmallBatch(seed: seed)
            let (_, drawn, _) = try mixed(.infoNCE, .cosine(scale: 20), batch, seed: seed)
            let synthetics = try #require(drawn)
            let scores = ReferenceLoss.scores(batch.queries.map(Double.init), batch.candidates.map(Double.init), dimension: d, cosine: true, scale: 20)
            for i in 0..<SmallBatch.queryCount {
                let own = SmallBatch.positives[i]
                // The reference: this row's negatives by score, the best 3.
                let hardest = Set((0..<SmallBatch.candidateCount).filter { !own.contains($0) }.sorted { scores[i][$0] > scores[i][$1] }.prefix(3))
                for k in 0..<synthetics.perQuery {
                    let source = try #require(synthetics.sources[i * synthetics.perQuery + k])
                    #expect(hardest.contains(source.second), "query \(i) mixed candidate \(source.second), not one of its hardest \(hardest)")
                    #expect(!own.contains(source.second))
                    switch source.kind {
                    case .twoNegatives:
                        #expect(k < 2)
                        #expect(hardest.contains(source.first) && !own.contains(source.first))
                        #expect((0..<1).contains(source.weight))
                    case .queryAndNegative:
                        #expect(k >= 2)
                        #expect(source.first == i, "a query mix must use the query itself")
                        #expect((0..<0.5).contains(source.weight))
                    }
                    // The vector is the formula on the compared (unit) vectors.
                    func unit(_ x: [Float], _ row: Int) -> [Double] {
                        let v = x[(row * d)..<((row + 1) * d)].map(Double.init)
                        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                        return v.map { $0 / norm }
                    }
                    let x = source.kind == .twoNegatives ? unit(batch.candidates, source.first) : unit(batch.queries, i)
                    let y = unit(batch.candidates, source.second), a = Double(source.weight)
                    var mix = zip(x, y).map { a * $0 + (1 - a) * $1 }
                    let norm = mix.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    mix = mix.map { $0 / norm }
                    for j in 0..<d {
                        #expect(abs(Double(synthetics.vectors[(i * synthetics.perQuery + k) * d + j]) - mix[j]) < 1e-5)
                    }
                }
            }
        }
    }

    /// Query 0's only negatives are candidates that are positives of the other queries: its
    /// synthetics must mix those, and never query 1's or 2's hard negatives.
    @Test func aQueryWithFewNegativesMixesOnlyThose() throws {
        let d = SmallBatch.dimension, batch = SmallBatch(seed: 5)
        let positives = [[0, 1, 2, 3, 4], [1, 3], [4, 2]]
        var random = RandomSource(seed: 9)
        let result = try batch.queries.withUnsafeBufferPointer { q in
            try batch.candidates.withUnsafeBufferPointer { p in
                try InfoNCELoss()(queries: q, candidates: p, dimension: d, positives: positives,
                                  mixing: HardNegativeMixing(hardest: 5, negatives: 4, query: 4), random: &random)
            }
        }
        let synthetics = try #require(result.synthetics)
        for k in 0..<synthetics.perQuery {
            let source = try #require(synthetics.sources[k])
            #expect([5, 6].contains(source.second))
            if source.kind == .twoNegatives { #expect([5, 6].contains(source.first)) }
        }
    }

    @Test func aQueryWhoseCandidatesAreAllPositivesGetsNoSynthetic() throws {
        let d = SmallBatch.dimension, batch = SmallBatch(seed: 4)
        let positives = [[0, 1, 2, 3, 4, 5, 6], [1, 3], [4, 2]]
        var random = RandomSource(seed: 9)
        let result = try batch.queries.withUnsafeBufferPointer { q in
            try batch.candidates.withUnsafeBufferPointer { p in
                try InfoNCELoss()(queries: q, candidates: p, dimension: d, positives: positives, mixing: Self.mixing, random: &random)
            }
        }
        let synthetics = try #require(result.synthetics)
        #expect((0..<synthetics.perQuery).allSatisfy { !synthetics.isFilled(query: 0, slot: $0) })
        #expect((0..<synthetics.perQuery).allSatisfy { synthetics.isFilled(query: 1, slot: $0) })
        // Query 0's loss is its plain one: its target against nothing.
        let reference = ReferenceLoss.loss(.infoNCE, q: batch.queries.map(Double.init), p: batch.candidates.map(Double.init), dimension: d,
                                           positives: positives, cosine: true, scale: 20,
                                           synthetic: [[]] + (1..<3).map { i in
                                               (0..<synthetics.perQuery).map { k in
                                                   synthetics.vectors[((i * synthetics.perQuery + k) * d)..<((i * synthetics.perQuery + k + 1) * d)].map(Double.init)
                                               }
                                           })
        #expect(abs(Double(result.output.value) - reference) <= 1e-5 * (1 + abs(reference)))
        #expect(result.output.value.isFinite && result.output.queryGradient.allSatisfy(\.isFinite))
    }

    @Test(arguments: [HardNegativeMixing(), HardNegativeMixing(hardest: 0, negatives: 4, query: 4), HardNegativeMixing(hardest: 4)])
    func mixingOffIsThePlainLossExactly(mixing: HardNegativeMixing) throws {
        for kind in ReferenceLoss.Kind.allCases {
            let batch = SmallBatch(seed: 3)
            let loss = makeLoss(kind, .cosine(scale: 20))
            let plain = try loss(queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension, positives: SmallBatch.positives)
            let (output, synthetics, random) = try mixed(kind, .cosine(scale: 20), batch, mixing: mixing)
            #expect(output == plain, "\(kind): mixing off must not change a bit")
            #expect(synthetics == nil)
            #expect(random == RandomSource(seed: 7), "mixing off must not draw")
        }
    }

    @Test func theDrawIsReproducibleAndAdvancesTheGenerator() throws {
        let batch = SmallBatch(seed: 2)
        let first = try mixed(.infoNCE, .cosine(scale: 20), batch, seed: 11)
        let second = try mixed(.infoNCE, .cosine(scale: 20), batch, seed: 11)
        #expect(first.0 == second.0 && first.1 == second.1 && first.2 == second.2)
        #expect(first.2 != RandomSource(seed: 11))
        let other = try mixed(.infoNCE, .cosine(scale: 20), batch, seed: 12)
        #expect(other.1 != first.1)
    }
}
