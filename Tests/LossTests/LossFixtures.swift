import DensekitLosses

/// The production loss for each reference kind.
func makeLoss(_ kind: ReferenceLoss.Kind, _ similarity: Similarity) -> any ContrastiveLoss {
    switch kind {
    case .infoNCE: InfoNCELoss(similarity: similarity)
    case .symmetricInfoNCE: InfoNCELoss(similarity: similarity, symmetric: true)
    case .decoupledContrastive: DecoupledContrastiveLoss(similarity: similarity)
    case .decoupledSoftmax: DecoupledSoftmaxLoss(similarity: similarity)
    case .softTopK: SoftTopKLoss(similarity: similarity, k: ReferenceLoss.topK, alpha: ReferenceLoss.topKAlpha)
    }
}

/// Similarities the gradient checks run under: the default cosine (scale 20), a mild cosine, and
/// a scaled dot product.
enum SimilarityCase: String, CaseIterable, CustomStringConvertible, Sendable {
    case cosine20, cosine1, dot
    var description: String { rawValue }
    var similarity: Similarity {
        switch self {
        case .cosine20: .cosine(scale: 20)
        case .cosine1: .cosine(scale: 1)
        case .dot: .dot(scale: 0.7)
        }
    }
}

/// B = 3 queries, M = 7 candidates, d = 5. Candidate 3 is a copy of candidate 1 (the same passage
/// twice in a batch) and is listed as query 1's second positive; candidate 4 is a positive of
/// queries 0 and 2 and query 2's target, so the symmetric term must exclude query 0 for it.
struct SmallBatch {
    static let queryCount = 3, candidateCount = 7, dimension = 5
    static let positives = [[0, 4], [1, 3], [4, 2]]
    let queries: [Float]
    let candidates: [Float]

    init(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let d = SmallBatch.dimension
        queries = generator.normals(SmallBatch.queryCount * d)
        var candidates = generator.normals(SmallBatch.candidateCount * d)
        for j in 0..<d { candidates[3 * d + j] = candidates[1 * d + j] }
        self.candidates = candidates
    }
}
