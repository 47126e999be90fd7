import DensekitLosses
import Testing

/// Inputs the losses refuse, with the error each one gets.
@Suite struct LossValidationTests {
    let q: [Float] = [1, 0, 0, 1]        // 2 queries, d = 2
    let p: [Float] = [1, 0, 0, 1, 1, 1]  // 3 candidates

    func error(_ body: () throws(LossInputError) -> LossOutput) -> LossInputError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func shapes() {
        let loss = InfoNCELoss()
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 0, positives: [[0], [1]]) } == .invalidDimension(0))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: []) } == .emptyBatch)
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[0]]) }
                == .queryShapeMismatch(expected: 2, actual: 4))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: [1, 2, 3], dimension: 2, positives: [[0], [1]]) }
                == .candidateShapeMismatch(count: 3, dimension: 2))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: [], dimension: 2, positives: [[0], [1]]) }
                == .candidateShapeMismatch(count: 0, dimension: 2))
        #expect(error { () throws(LossInputError) in try InfoNCELoss(similarity: .dot(scale: .nan))(queries: q, candidates: p, dimension: 2, positives: [[0], [1]]) }?
                .description.contains("scale") == true)
    }

    @Test func positiveLists() {
        let loss = DecoupledSoftmaxLoss()
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[0], []]) } == .emptyPositives(query: 1))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[0], [3]]) }
                == .positiveOutOfRange(query: 1, index: 3, candidateCount: 3))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[-1], [0]]) }
                == .positiveOutOfRange(query: 0, index: -1, candidateCount: 3))
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[0, 2, 0], [1]]) }
                == .duplicatePositive(query: 0, index: 0))
        // The same candidate for two different queries is fine.
        #expect(error { () throws(LossInputError) in try loss(queries: q, candidates: p, dimension: 2, positives: [[0], [0]]) } == nil)
    }

    @Test func decoupledContrastiveNeedsANegative() throws {
        #expect(error { () throws(LossInputError) in
            try DecoupledContrastiveLoss()(queries: q, candidates: p, dimension: 2, positives: [[0], [1, 2, 0]])
        } == .noNegatives(query: 1))
        // InfoNCE and decoupled softmax score such a query: 0 for it in both.
        let info = try InfoNCELoss()(queries: [1, 0], candidates: p, dimension: 2, positives: [[1, 2, 0]])
        let dexml = try DecoupledSoftmaxLoss()(queries: [1, 0], candidates: p, dimension: 2, positives: [[1, 2, 0]])
        #expect(info.value == 0 && dexml.value == 0)
        #expect(dexml.queryGradient.allSatisfy { $0 == 0 } && dexml.candidateGradient.allSatisfy { $0 == 0 })
    }
}
