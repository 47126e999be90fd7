import DensekitEncoder
import DensekitLosses
import DensekitTestSupport
import DensekitTokenizer
import DensekitTraining
import Foundation
import Testing

/// One dual-encoder step (shared tower): plain vs GradCache, and the whole chain
/// (encoder -> pooling -> loss) against finite differences.
@Suite struct ContrastiveStepTests {
    let queryTexts = ["the cat sat", "a big red dog", "night and day", "sun over the tree"]
    // Candidates: each query's positive, one hard negative each, and a duplicate of the first
    // positive (a known positive of query 0, so never its negative).
    let candidateTexts = ["the cat sat on the mat", "a big red dog ran fast", "day and night", "the sun is over the green tree",
                          "the dog sat", "a small blue cat", "night was slow", "under the tree", "the cat sat on the mat"]
    let positives = [[0, 8], [1], [2], [3]]

    func setUp() throws -> (SentenceEncoder, [Encoding], [Encoding]) {
        let folder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let encoder = try SentenceEncoder.load(directory: folder)
        return (encoder, encoder.tokenize(queryTexts), encoder.tokenize(candidateTexts))
    }

    func run(_ encoder: SentenceEncoder, _ q: [Encoding], _ p: [Encoding], chunkSize: Int, threads: Int, loss: any ContrastiveLoss,
             positives: [[Int]]? = nil) throws -> (Float, [Float]) {
        let step = ContrastiveStep(encoder: encoder.encoder, pooling: encoder.pooling, chunkSize: chunkSize, threads: threads)
        var gradient = [Float](repeating: .nan, count: encoder.encoder.parameters.layout.count)
        let value = try gradient.withUnsafeMutableBufferPointer {
            try step.run(queries: q, candidates: p, positives: positives ?? self.positives, loss: loss, gradient: $0.baseAddress!)
        }
        return (value, gradient)
    }

    /// GradCache (chunks of 3 sequences, 2 workers, two forward passes) gives the loss and the
    /// parameter gradients of the plain computation (one chunk, activations kept), to 1e-5.
    @Test(arguments: [(3, 2), (2, 1), (5, 2), (13, 2), (100, 2)])
    func gradCacheMatchesThePlainComputation(chunkSize: Int, threads: Int) throws {
        let (encoder, q, p) = try setUp()
        let loss = InfoNCELoss(similarity: .cosine(scale: 20))
        let (plainLoss, plainGradient) = try run(encoder, q, p, chunkSize: 100, threads: 1, loss: loss)
        let (cachedLoss, cachedGradient) = try run(encoder, q, p, chunkSize: chunkSize, threads: threads, loss: loss)
        #expect(abs(plainLoss - cachedLoss) <= 1e-5 * max(1, abs(plainLoss)))
        let scale = plainGradient.map(abs).max() ?? 1
        let worst = zip(plainGradient, cachedGradient).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * max(1, scale), "max difference \(worst), gradient scale \(scale)")
        #expect(plainGradient.allSatisfy { $0.isFinite })
    }

    /// The full step's gradient, along a random direction in parameter space, against a
    /// central difference of the step's loss (tolerance as argued in BertBackwardTests: Float32
    /// noise over ε ≈ 1e-3 relative, truncation smaller; errors in wiring are O(1)).
    ///
    /// "ar2": AR2's retriever loss on each query's own group of two candidates (its positive and
    /// a negative), against fixed ranker logits (`GroupedScoreLoss`).
    @Test(arguments: ["infonce", "dcl", "decoupled-softmax", "ar2"])
    func stepGradientMatchesFiniteDifferences(lossName: String) throws {
        let (encoder, q, allCandidates) = try setUp()
        var p = allCandidates, positives = self.positives
        let loss: any ContrastiveLoss
        switch lossName {
        case "dcl": loss = DecoupledContrastiveLoss(similarity: .cosine(scale: 20))
        case "decoupled-softmax": loss = DecoupledSoftmaxLoss(similarity: .cosine(scale: 20))
        case "ar2":
            // Groups (positive, negative): candidates 0, 4 | 1, 5 | 2, 6 | 3, 7.
            p = [0, 4, 1, 5, 2, 6, 3, 7].map { allCandidates[$0] }
            positives = [[0], [2], [4], [6]]
            let ranker = try RankerLogits(values: [1.5, 2.5, 0.3, -1, 2, 1.8, -0.5, 0.7], rows: 4, columns: 2)
            loss = GroupedScoreLoss(similarity: .cosine(scale: 20), groupSize: 2, inner: AR2RetrieverLoss(lambda: 0.5, temperature: 1), targets: ranker)
        default: loss = InfoNCELoss(similarity: .cosine(scale: 20), symmetric: true)
        }
        let (_, gradient) = try run(encoder, q, p, chunkSize: 4, threads: 2, loss: loss, positives: positives)
        let parameters = encoder.encoder.parameters
        let count = parameters.layout.count
        var generator = SeededGenerator(seed: 21)
        var direction = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = direction.map { $0 / norm }
        let analytic = zip(gradient, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let original = Array(UnsafeBufferPointer(start: parameters.values, count: count))
        let epsilon: Float = 3e-3
        func lossAt(_ sign: Float) throws -> Double {
            for k in 0..<count { parameters.values[k] = original[k] + sign * epsilon * direction[k] }
            defer { for k in 0..<count { parameters.values[k] = original[k] } }
            return Double(try run(encoder, q, p, chunkSize: 100, threads: 1, loss: loss, positives: positives).0)
        }
        let numeric = (try lossAt(1) - lossAt(-1)) / (2 * Double(epsilon))
        #expect(abs(numeric - analytic) <= 2e-3 + 0.02 * max(abs(numeric), abs(analytic)), "finite difference \(numeric), analytic \(analytic)")
        // Above 2.1e-3 the absolute floor cannot pass a zero (or missing) gradient.
        #expect(abs(numeric) > 2.1e-3, "derivative \(numeric) too small for the check to mean anything")
    }

    /// Two towers of a step: copies of the encoder's parameters (perturbed by `noise` when > 0).
    func towers(of encoder: SentenceEncoder, noise: Float) -> [BertEncoder] {
        var generator = SeededGenerator(seed: 17)
        return (0..<2).map { _ in
            let source = encoder.encoder.parameters
            let copy = BertParameters(layout: source.layout)
            for k in 0..<source.layout.count { copy.values[k] = source.values[k] + noise * Float.random(in: -1...1, using: &generator) }
            return BertEncoder(parameters: copy)
        }
    }

    func run(towers: [BertEncoder], pooling: PoolingConfiguration, _ q: [Encoding], _ p: [Encoding], chunkSize: Int, threads: Int,
             recompute: Bool = false) throws -> (Float, [Float]) {
        let step = ContrastiveStep(towers: towers, pooling: pooling, chunkSize: chunkSize, threads: threads, recomputesLayers: recompute)
        var gradient = [Float](repeating: .nan, count: towers[0].parameters.layout.count * towers.count)
        let loss = InfoNCELoss(similarity: .cosine(scale: 20))
        let value = try gradient.withUnsafeMutableBufferPointer { try step.run(queries: q, candidates: p, positives: positives, loss: loss, gradient: $0.baseAddress!) }
        return (value, gradient)
    }

    /// With identical towers, the model is the shared one: the same loss, and each parameter's
    /// shared gradient is the sum of its query-tower and passage-tower gradients (the shared
    /// weight is used on both paths), while each tower alone gets only its own path's part.
    @Test func identicalTowersSumToTheSharedGradient() throws {
        let (encoder, q, p) = try setUp()
        let (sharedLoss, shared) = try run(encoder, q, p, chunkSize: 100, threads: 1, loss: InfoNCELoss(similarity: .cosine(scale: 20)))
        let (towerLoss, split) = try run(towers: towers(of: encoder, noise: 0), pooling: encoder.pooling, q, p, chunkSize: 3, threads: 2)
        let count = shared.count
        #expect(abs(sharedLoss - towerLoss) <= 1e-6 * max(1, abs(sharedLoss)))
        let scale = shared.map(abs).max() ?? 1
        let worst = (0..<count).map { abs(shared[$0] - (split[$0] + split[count + $0])) }.max() ?? .infinity
        #expect(worst <= 1e-5 * max(1, scale), "max difference \(worst), gradient scale \(scale)")
        // Neither tower alone carries the whole gradient.
        let queryOnly = (0..<count).map { abs(shared[$0] - split[$0]) }.max() ?? 0
        #expect(queryOnly > 1e-3 * scale)
    }

    /// Different towers: GradCache and layer recomputation give the plain computation's loss
    /// and gradients for both towers.
    @Test(arguments: [(3, 2, false), (2, 1, true), (100, 1, true), (100, 2, false)])
    func separateTowersGradCacheMatchesPlain(chunkSize: Int, threads: Int, recompute: Bool) throws {
        let (encoder, q, p) = try setUp()
        let towers = towers(of: encoder, noise: 0.05)
        let (plainLoss, plain) = try run(towers: towers, pooling: encoder.pooling, q, p, chunkSize: 100, threads: 1)
        let (otherLoss, other) = try run(towers: towers, pooling: encoder.pooling, q, p, chunkSize: chunkSize, threads: threads, recompute: recompute)
        #expect(abs(plainLoss - otherLoss) <= 1e-5 * max(1, abs(plainLoss)))
        let scale = plain.map(abs).max() ?? 1
        let worst = zip(plain, other).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * max(1, scale), "max difference \(worst), gradient scale \(scale)")
        let count = plain.count / 2
        #expect(plain[..<count].contains { $0 != 0 } && plain[count...].contains { $0 != 0 })
    }
}
