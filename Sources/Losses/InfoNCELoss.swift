import DensekitTensor

/// InfoNCE, a.k.a. the multiple-negatives ranking loss: each query must pick its target positive
/// out of its target and all of its negatives.
///
/// With `t = positives[i][0]` and `s_ij` the scaled similarity,
///
///     L_i = -s_it + log( sum_{j not in positives[i] \ {t}} e^{s_ij} ),   L = (1/B) sum_i L_i,
///
/// i.e. cross-entropy over the target plus every negative. This is sentence-transformers'
/// `MultipleNegativesRankingLoss` (`losses/MultipleNegativesRankingLoss.py`: cosine scores times
/// scale 20, label = the query's own positive; in-batch positives of other queries and any hard
/// negatives are extra columns) and Tevatron's contrastive loss (`retriever/modeling/encoder.py`:
/// dot product over temperature, one positive and `train_group_size - 1` negatives per query,
/// plus every other query's group) — except that here the query's other known positives
/// (`positives[i]` beyond the first: a duplicate of the same passage elsewhere in the batch,
/// other relevant passages) are left out of the denominator instead of being pushed away as
/// false negatives (sentence-transformers issues #3189, #2827).
///
/// With `symmetric`, the passage-to-query direction is added as in sentence-transformers'
/// `MultipleNegativesSymmetricRankingLoss`: each query's target `p_t` must pick query `i` out of
/// all queries, except queries `k != i` that also list `p_t` as a positive,
///
///     L'_i = -s_it + log( sum_{k : k == i or t not in positives[k]} e^{s_kt} ),
///
/// and the loss is `(L + L') / 2` with `L' = (1/B) sum_i L'_i`.
///
/// Relations: `DecoupledContrastiveLoss` drops `e^{s_it}` from the denominator (so it is smaller
/// for the same inputs); `DecoupledSoftmaxLoss` with one positive per query is exactly this loss.
public struct InfoNCELoss: ContrastiveLoss {
    /// How scores are computed; sentence-transformers' default is `.cosine(scale: 20)`.
    public var similarity: Similarity
    /// Whether to add the passage-to-query term.
    public var symmetric: Bool

    /// Creates the loss; the defaults are sentence-transformers' (cosine, scale 20, one direction).
    public init(similarity: Similarity = .cosine(), symmetric: Bool = false) {
        self.similarity = similarity
        self.symmetric = symmetric
    }

    /// `sum_i L_i` (or `sum_i (L_i + L'_i) / 2` when symmetric) and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double {
        // The passage-to-query term needs the scores the forward term overwrites: gather each
        // target's column first (row i of `columns` = S[:, t_i]).
        let columns = symmetric ? gatherTargetColumns(scores, positives) : []
        // The query-to-passage term is the listwise cross-entropy of the score rows.
        let forward = ListwiseCrossEntropyLoss().lossAndGradient(overwriting: scores, targets: positives)
        guard symmetric else { return forward }
        // Halving is exact in floating point, so the gradient is the same as scaling row by row.
        RowKernels.scale(scores.values, by: 0.5, scores.rows * scores.columns)
        return 0.5 * forward + 0.5 * addBackwardTerm(scores, positives, columns: columns)
    }

    private func gatherTargetColumns(_ scores: ScoreMatrix, _ positives: PositiveSets) -> [Float] {
        let b = scores.rows
        return [Float](unsafeUninitializedCapacity: b * b) { buffer, initialized in
            for i in 0..<b {
                let target = positives.target(of: i)
                for k in 0..<b { buffer[i * b + k] = scores[k, target] }
            }
            initialized = b * b
        }
    }

    /// Adds the passage-to-query term's gradient (weight 1/2) into `scores` and returns
    /// `sum_i L'_i`.
    private func addBackwardTerm(_ scores: ScoreMatrix, _ positives: PositiveSets, columns: [Float]) -> Double {
        let b = scores.rows
        let listing = positives.listingQueries()
        var columns = columns
        var excluded: [Int] = []
        excluded.reserveCapacity(b)
        var backward = 0.0
        columns.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for i in 0..<b {
                let target = positives.target(of: i)
                // Queries other than i for which the target is also a positive are not negatives.
                excluded.removeAll(keepingCapacity: true)
                for k in listing.queries[listing.offsets[target]..<listing.offsets[target + 1]] where k != i {
                    excluded.append(k)
                }
                let column = base + i * b
                let ownScore = column[i]
                let logSum = MaskedSoftmax.inPlace(column, count: b, excluding: excluded)
                backward += logSum - Double(ownScore)
                column[i] -= 1
                for k in 0..<b { scores[k, target] += 0.5 * column[k] }
            }
        }
        return backward
    }
}
