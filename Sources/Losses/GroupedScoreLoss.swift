/// A score loss applied to each query's own group of candidates, as a `ContrastiveLoss` on
/// embeddings: the candidates are laid out as consecutive groups of `groupSize` (query `i`'s at
/// `i g ..< (i + 1) g`, its positive first), each row of the embedding scores `S [B, B g]` is cut
/// down to its own group, `inner` sees the `[B, g]` block matrix with `targets`, and its
/// gradient goes back to the group's columns (the other queries' candidates get none: no
/// in-batch negatives).
///
///     L = inner( [ s_i,(i g + j) ]_{i < B, j < g} ; targets )
///
/// This is how a group loss whose targets are not hard positives reaches a dual encoder's
/// `ContrastiveStep`: AR2's retriever loss (`AR2RetrieverLoss`, targets the ranker's logits over
/// the same groups). With `inner` = `ListwiseCrossEntropyLoss` and positives first it is InfoNCE
/// restricted to each query's own group.
public struct GroupedScoreLoss<Inner: ScoreLoss>: ContrastiveLoss {
    public let similarity: Similarity
    public let groupSize: Int
    public let inner: Inner
    /// The inner loss's targets, `[B, groupSize]`.
    public let targets: Inner.Targets

    public init(similarity: Similarity, groupSize: Int, inner: Inner, targets: Inner.Targets) {
        self.similarity = similarity
        self.groupSize = groupSize
        self.inner = inner
        self.targets = targets
    }

    /// Checks the layout (`B g` candidates, each query's positive first in its own group) and
    /// the inner loss's own checks on the block shape.
    public func validate(_ positives: PositiveSets) throws(LossInputError) {
        guard groupSize >= 1, positives.candidateCount == positives.queryCount * groupSize else {
            throw .candidateShapeMismatch(count: positives.candidateCount, dimension: max(1, groupSize))
        }
        for query in 0..<positives.queryCount where positives.target(of: query) != query * groupSize {
            throw .positiveOutOfRange(query: query, index: positives.target(of: query), candidateCount: positives.candidateCount)
        }
        var block = [Float](repeating: 0, count: positives.queryCount * groupSize)
        let problem: LossInputError? = block.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .emptyBatch }
            do throws(LossInputError) {
                try inner.validate(targets, for: ScoreMatrix(values: base, rows: positives.queryCount, columns: groupSize))
            } catch { return error }
            return nil
        }
        if let problem { throw problem }
    }

    /// `sum_i L_i` of the inner loss on the group blocks; the gradient is written into the
    /// group columns, zero elsewhere.
    public func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double {
        let rows = scores.rows, g = groupSize
        var block = [Float](repeating: 0, count: rows * g)
        for i in 0..<rows {
            let row = scores.row(i)
            for j in 0..<g { block[i * g + j] = row[i * g + j] }
        }
        let value = block.withUnsafeMutableBufferPointer { buffer in
            inner.lossAndGradient(overwriting: ScoreMatrix(values: buffer.baseAddress!, rows: rows, columns: g), targets: targets)
        }
        scores.values.update(repeating: 0, count: rows * scores.columns)
        for i in 0..<rows {
            let row = scores.row(i)
            for j in 0..<g { row[i * g + j] = block[i * g + j] }
        }
        return value
    }
}
