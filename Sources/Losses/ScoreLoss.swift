/// A loss on a score matrix `S [rows, columns]` and targets: returns `sum_i L_i` (a sum over rows;
/// the caller divides by `rows` for a mean) and overwrites `scores` with `d(sum_i L_i) / dS`.
///
/// This is the layer every loss in the module shares. Where the scores come from is the caller's
/// business:
/// - a bi-encoder computes `s_ij = sim(q_i, p_j)` from embeddings; `ContrastiveLoss` is a
///   `ScoreLoss` on hard targets (`PositiveSets`) that adds that scorer (`EmbeddingScores`) and
///   back-propagates `dL/dS` to the embeddings;
/// - a cross-encoder (reranker) produces one logit per (query, passage) pair directly; its losses
///   (`BinaryCrossEntropyLoss`, `ListwiseCrossEntropyLoss`, `SoftTargetCrossEntropyLoss`) see
///   only the logits, laid out as rows of pairs, and the caller back-propagates `dL/dS` itself.
///
/// Returning the sum rather than the mean lets a caller that splits a batch over several calls
/// add the parts and divide once.
///
/// Shapes: `lossAndGradient(overwriting:targets:)` expects `targets` of the same `rows` and
/// `columns` as `scores`; a mismatch is a programming error (the new losses check it with a
/// precondition). Call `validate(_:for:)` first to get it, and any setting the loss cannot use, as
/// a `LossInputError` instead.
public protocol ScoreLoss: Sendable {
    /// What the scores are compared with: hard positives, a target distribution, binary labels.
    associatedtype Targets: ScoreTargets

    /// Throws when `targets` does not match `scores`' shape or the loss cannot score them (a
    /// setting out of range, a row it has no denominator for). The default checks the shape.
    func validate(_ targets: Targets, for scores: ScoreMatrix) throws(LossInputError)

    /// Returns `sum_i L_i` and overwrites `scores` with `d(sum_i L_i) / dS`.
    ///
    /// Called with targets that passed `validate(_:for:)`.
    func lossAndGradient(overwriting scores: ScoreMatrix, targets: Targets) -> Double
}

/// Targets laid out like a score matrix: one row per query, one column per candidate.
public protocol ScoreTargets: Sendable {
    /// Number of rows (queries) the targets describe.
    var rows: Int { get }
    /// Number of columns (candidates) each row describes.
    var columns: Int { get }
}

extension ScoreTargets {
    /// Throws `LossInputError.invalidTargetShape` unless `count` values fill a non-empty
    /// `rows x columns` matrix: the first check of every targets type's initialiser.
    static func checkMatrixShape(count: Int, rows: Int, columns: Int) throws(LossInputError) {
        guard rows > 0, columns > 0, count == rows * columns else {
            throw .invalidTargetShape(count: count, rows: rows, columns: columns)
        }
    }

    /// Throws `LossInputError.targetsDoNotMatchScores` unless these targets have `scores`' shape.
    public func validateShape(for scores: ScoreMatrix) throws(LossInputError) {
        guard rows == scores.rows, columns == scores.columns else {
            throw .targetsDoNotMatchScores(
                targetRows: rows, targetColumns: columns, scoreRows: scores.rows, scoreColumns: scores.columns)
        }
    }

    /// The precondition form of `validateShape(for:)`, for `lossAndGradient` (where a mismatch
    /// can only come from code that skipped validation).
    func preconditionShape(of scores: ScoreMatrix, file: StaticString = #file, line: UInt = #line) {
        precondition(rows == scores.rows && columns == scores.columns,
                     "targets are \(rows) x \(columns), scores \(scores.rows) x \(scores.columns)", file: file, line: line)
    }
}

extension ScoreLoss {
    /// Checks only the shape.
    public func validate(_ targets: Targets, for scores: ScoreMatrix) throws(LossInputError) {
        try targets.validateShape(for: scores)
    }
}

extension PositiveSets: ScoreTargets {
    /// Number of queries (`queryCount`).
    public var rows: Int { queryCount }
    /// Number of candidates (`candidateCount`).
    public var columns: Int { candidateCount }
}
