import DensekitLosses
import Foundation
import Testing

/// How the losses relate to each other, and what known-positive masking does.
@Suite struct LossRelationTests {
    /// Largest absolute difference between two equally long float arrays.
    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func duplicateOfThePositiveIsNotANegative() throws {
        var generator = SeededGenerator(seed: 11)
        let d = 8
        let query = generator.normals(d)
        // A positive close to the query (so that it matters), and two random negatives.
        let noise = generator.normals(d)
        let three = zip(query, noise).map { $0 + 0.3 * $1 } + generator.normals(2 * d)
        let withDuplicate = three + Array(three[0..<d])      // + the positive again, as candidate 3
        let loss = InfoNCELoss()

        let reference = try loss(queries: query, candidates: three, dimension: d, positives: [[0]])
        let masked = try loss(queries: query, candidates: withDuplicate, dimension: d, positives: [[0, 3]])
        // Listing the duplicate as a known positive makes it vanish from the loss...
        #expect(abs(masked.value - reference.value) < 1e-6)
        #expect(maxDifference(masked.queryGradient, reference.queryGradient) < 1e-6)
        #expect(maxDifference(Array(masked.candidateGradient[0..<(3 * d)]), reference.candidateGradient) < 1e-6)
        #expect(masked.candidateGradient[(3 * d)...].allSatisfy { $0 == 0 })

        // ...whereas without masking it is a false negative as hard as the positive itself:
        // the denominator gains e^{s_pos}, i.e. the loss grows by log(1 + p_pos).
        let unmasked = try loss(queries: query, candidates: withDuplicate, dimension: d, positives: [[0]])
        #expect(unmasked.value > reference.value + 0.01)
        let s = ReferenceLoss.scores(query.map(Double.init), three.map(Double.init), dimension: d, cosine: true, scale: 20)[0]
        let positiveProbability = exp(s[0] - ReferenceLoss.logSumExp(s))
        #expect(abs(Double(unmasked.value - reference.value) - log(1 + positiveProbability)) < 1e-5)
    }

    @Test(arguments: SimilarityCase.allCases)
    func decoupledContrastiveIsBelowInfoNCE(similarity: SimilarityCase) throws {
        for seed: UInt64 in 20..<30 {
            let batch = SmallBatch(seed: seed)
            let info = try InfoNCELoss(similarity: similarity.similarity)(
                queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension,
                positives: SmallBatch.positives)
            let dcl = try DecoupledContrastiveLoss(similarity: similarity.similarity)(
                queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension,
                positives: SmallBatch.positives)
            #expect(dcl.value < info.value)
            // The gap is exactly mean_i log(1 + e^{s_it} / sum_{N_i} e^{s_ik}).
            let s = ReferenceLoss.scores(batch.queries.map(Double.init), batch.candidates.map(Double.init),
                                         dimension: SmallBatch.dimension, cosine: similarity.similarity.normalizes,
                                         scale: Double(similarity.similarity.scale))
            var gap = 0.0
            for (i, list) in SmallBatch.positives.enumerated() {
                let negatives = (0..<SmallBatch.candidateCount).filter { !list.contains($0) }
                gap += log(1 + exp(s[i][list[0]] - ReferenceLoss.logSumExp(negatives.map { s[i][$0] })))
            }
            gap /= Double(SmallBatch.queryCount)
            #expect(abs(Double(info.value - dcl.value) - gap) < 1e-4 * (1 + gap))
        }
    }

    /// The identity that holds: with one positive per query, decoupled softmax is InfoNCE (whose
    /// denominator keeps the positive), value and gradients. It is *not* DCL (checked too).
    @Test(arguments: SimilarityCase.allCases)
    func decoupledSoftmaxWithOnePositiveIsInfoNCE(similarity: SimilarityCase) throws {
        let batch = SmallBatch(seed: 5)
        let single = SmallBatch.positives.map { [$0[0]] }
        let info = try InfoNCELoss(similarity: similarity.similarity)(
            queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension, positives: single)
        let dexml = try DecoupledSoftmaxLoss(similarity: similarity.similarity)(
            queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension, positives: single)
        let dcl = try DecoupledContrastiveLoss(similarity: similarity.similarity)(
            queries: batch.queries, candidates: batch.candidates, dimension: SmallBatch.dimension, positives: single)
        #expect(abs(dexml.value - info.value) <= 1e-6 * (1 + abs(info.value)))
        #expect(maxDifference(dexml.queryGradient, info.queryGradient) < 1e-5)
        #expect(maxDifference(dexml.candidateGradient, info.candidateGradient) < 1e-5)
        #expect(dcl.value < dexml.value)
    }

    /// With several positives, each query's decoupled softmax term is the mean over its positives
    /// of InfoNCE with that positive as the target (and the others masked).
    @Test func decoupledSoftmaxIsTheMeanOfInfoNCEOverTargets() throws {
        var generator = SeededGenerator(seed: 8)
        let d = 6
        let query = generator.normals(d), candidates = generator.normals(6 * d)
        let positives = [2, 0, 5]
        let dexml = try DecoupledSoftmaxLoss()(queries: query, candidates: candidates, dimension: d, positives: [positives])
        var value: Float = 0
        var queryGradient = [Float](repeating: 0, count: d)
        var candidateGradient = [Float](repeating: 0, count: 6 * d)
        for shift in 0..<positives.count {
            let rotated = Array(positives[shift...] + positives[..<shift])
            let info = try InfoNCELoss()(queries: query, candidates: candidates, dimension: d, positives: [rotated])
            value += info.value / 3
            for k in 0..<d { queryGradient[k] += info.queryGradient[k] / 3 }
            for k in 0..<(6 * d) { candidateGradient[k] += info.candidateGradient[k] / 3 }
        }
        #expect(abs(dexml.value - value) < 1e-5)
        #expect(maxDifference(dexml.queryGradient, queryGradient) < 1e-5)
        #expect(maxDifference(dexml.candidateGradient, candidateGradient) < 1e-5)
    }

    /// When every query has one positive and the candidates are exactly those positives, the
    /// passage-to-query term is InfoNCE with the roles swapped, so the symmetric loss is the
    /// average of the two directions (sentence-transformers' MultipleNegativesSymmetricRankingLoss).
    @Test func symmetricIsTheMeanOfBothDirections() throws {
        var generator = SeededGenerator(seed: 9)
        let b = 4, d = 5
        let queries = generator.normals(b * d), candidates = generator.normals(b * d)
        let permutation = [2, 0, 3, 1]                        // query i's positive is candidate permutation[i]
        let forwardPositives = permutation.map { [$0] }
        // Backward: "queries" are the candidates in query order, "candidates" the queries.
        let reordered = permutation.flatMap { Array(candidates[($0 * d)..<(($0 + 1) * d)]) }
        let symmetric = try InfoNCELoss(symmetric: true)(
            queries: queries, candidates: candidates, dimension: d, positives: forwardPositives)
        let forward = try InfoNCELoss()(queries: queries, candidates: candidates, dimension: d, positives: forwardPositives)
        let backward = try InfoNCELoss()(
            queries: reordered, candidates: queries, dimension: d, positives: (0..<b).map { [$0] })
        #expect(abs(symmetric.value - (forward.value + backward.value) / 2) < 1e-5)
        // dL/dQ: half the forward gradient plus half the backward's candidate gradient.
        for k in 0..<(b * d) {
            let expected = (forward.queryGradient[k] + backward.candidateGradient[k]) / 2
            #expect(abs(symmetric.queryGradient[k] - expected) < 1e-5)
        }
    }

    /// A candidate that is the target of query i and a positive of query k is not a negative
    /// for k in the passage-to-query term either: moving k's embedding then changes nothing there.
    @Test func symmetricTermMasksOtherQueriesKnownPositives() throws {
        var generator = SeededGenerator(seed: 10)
        let d = 4
        let queries = generator.normals(2 * d), candidates = generator.normals(3 * d)
        // Both queries list candidate 0; query 1's target is candidate 1.
        let positives = [[0], [1, 0]]
        let symmetric = try InfoNCELoss(symmetric: true)(queries: queries, candidates: candidates, dimension: d, positives: positives)
        let value = ReferenceLoss.loss(.symmetricInfoNCE, q: queries.map(Double.init), p: candidates.map(Double.init),
                                       dimension: d, positives: positives, cosine: true, scale: 20)
        #expect(abs(Double(symmetric.value) - value) < 1e-5 * (1 + abs(value)))
        // Candidate 0's backward softmax is over query 0 alone, a term of exactly 0: the loss is
        // forward / 2 + (query 1's backward term) / 4.
        let forward = try InfoNCELoss()(queries: queries, candidates: candidates, dimension: d, positives: positives)
        let s = ReferenceLoss.scores(queries.map(Double.init), candidates.map(Double.init), dimension: d, cosine: true, scale: 20)
        let backward1 = -s[1][1] + ReferenceLoss.logSumExp([s[0][1], s[1][1]])
        #expect(abs(Double(symmetric.value) - (Double(forward.value) / 2 + backward1 / 4)) < 1e-5)
    }
}
