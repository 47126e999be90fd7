/// A contrastive loss over a batch of query embeddings `Q [B, d]` and candidate embeddings
/// `P [M, d]`, with analytic gradients for both.
///
/// It is a `ScoreLoss` on hard targets (`Targets == PositiveSets`) whose scores come from
/// embeddings: every loss here is a function of the score matrix `S = [s_ij]`,
/// `s_ij = sim(q_i, p_j)` (see `Similarity`), and of which candidates are positives of which query.
/// So a conforming type supplies only the part that differs, `lossAndGradient(overwriting:positives:)`
/// (which is also its `ScoreLoss.lossAndGradient(overwriting:targets:)`): the loss summed over
/// queries, and `dL/dS` written over the scores. The embedding scorer (`EmbeddingScores`, behind
/// `callAsFunction(queries:candidates:dimension:positives:)`) does the rest with three GEMMs:
/// `S = Q P^T`, then `dL/dQ = dL/dS P` and `dL/dP = (dL/dS)^T Q`, followed by the exact gradient of
/// the cosine normalisation when the similarity normalises. The same score loss can be applied to
/// scores from elsewhere (a cross-encoder's logits) through `ScoreLoss`; see
/// `ListwiseCrossEntropyLoss`, which is `InfoNCELoss`'s score loss.
///
/// Known positives: a candidate listed in `positives[i]` is never a negative of query `i`. Each
/// loss documents what it does with the positives beyond the first.
///
/// The losses and how they relate (with `t = positives[i][0]`, `N_i` = negatives of query `i`):
/// - `InfoNCELoss`: `-s_it + log(e^{s_it} + sum_{k in N_i} e^{s_ik})`, optionally symmetric.
/// - `DecoupledContrastiveLoss`: `-s_it + log(sum_{k in N_i} e^{s_ik})` (no positive below the line).
/// - `DecoupledSoftmaxLoss`: the mean over every positive `j` of InfoNCE with target `j`; it
///   equals `InfoNCELoss` when each query has one positive.
public protocol ContrastiveLoss: ScoreLoss where Targets == PositiveSets {
    /// How scores are computed from the embeddings.
    var similarity: Similarity { get }

    /// Rejects positive lists this loss cannot score (beyond the checks `PositiveSets` makes).
    /// The default accepts everything.
    func validate(_ positives: PositiveSets) throws(LossInputError)

    /// Returns `sum_i L_i` (the sum over queries, not the mean) and overwrites `scores` with
    /// `d(sum_i L_i) / dS`.
    ///
    /// Called only with positives that passed `validate(_:)`, and with `scores.rows ==
    /// positives.queryCount`, `scores.columns == positives.candidateCount`.
    func lossAndGradient(overwriting scores: ScoreMatrix, positives: PositiveSets) -> Double
}

extension ContrastiveLoss {
    /// Accepts every valid `PositiveSets`.
    public func validate(_ positives: PositiveSets) throws(LossInputError) {}

    /// The `ScoreLoss` check: the shape, then `validate(_:)`.
    public func validate(_ targets: PositiveSets, for scores: ScoreMatrix) throws(LossInputError) {
        try targets.validateShape(for: scores)
        try validate(targets)
    }

    /// The `ScoreLoss` entry point: `lossAndGradient(overwriting:positives:)`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, targets: PositiveSets) -> Double {
        lossAndGradient(overwriting: scores, positives: targets)
    }
}
