/// Why a loss refused its inputs.
///
/// Positive lists, target distributions and labels are built from data (qrels, batch composition,
/// a teacher's scores), so a bad one is reported as an error the trainer can attach to the batch,
/// rather than a crash.
public enum LossInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The embedding dimension is not positive.
    case invalidDimension(Int)
    /// There are no queries (`positives` is empty): a mean over no queries is undefined.
    case emptyBatch
    /// The query matrix does not hold `queryCount * dimension` floats.
    case queryShapeMismatch(expected: Int, actual: Int)
    /// The candidate matrix is empty or not a whole number of rows of `dimension` floats.
    case candidateShapeMismatch(count: Int, dimension: Int)
    /// Query `query` has no positive.
    case emptyPositives(query: Int)
    /// Query `query` lists a positive that is not a candidate row.
    case positiveOutOfRange(query: Int, index: Int, candidateCount: Int)
    /// Query `query` lists the same candidate index twice (a duplicated passage belongs in the
    /// list once per candidate row that holds it, never one row twice).
    case duplicatePositive(query: Int, index: Int)
    /// Query `query` has no negative, which a loss whose denominator holds only negatives
    /// (decoupled contrastive) cannot score.
    case noNegatives(query: Int)
    /// The similarity's scale is not a finite number.
    case invalidScale(Float)
    /// Targets given as `count` floats do not form a non-empty `rows x columns` matrix.
    case invalidTargetShape(count: Int, rows: Int, columns: Int)
    /// The targets describe a `targetRows x targetColumns` matrix, the scores are
    /// `scoreRows x scoreColumns`.
    case targetsDoNotMatchScores(targetRows: Int, targetColumns: Int, scoreRows: Int, scoreColumns: Int)
    /// A target distribution's entry is negative or not finite.
    case invalidTargetProbability(row: Int, column: Int, value: Float)
    /// A target distribution's row does not sum to 1 (within 1e-4).
    case targetRowSum(row: Int, sum: Double)
    /// A binary label is not a number in `[0, 1]` (NaN included).
    case labelOutOfRange(row: Int, column: Int, value: Float)
    /// A positive-class weight that is negative or not finite.
    case invalidPositiveWeight(Float)
    /// A softmax temperature that is not a finite positive number.
    case invalidTemperature(Float)
    /// Soft top-k: `k` below 1, or `alpha` not a finite positive number.
    case invalidTopK(k: Int, alpha: Double)
    /// Soft top-k: a row with no more columns than `k` (every sigmoid would have to be 1).
    case topKTooLarge(query: Int, k: Int, columns: Int)
    /// A mixing weight (AR2's lambda) outside [0, 1].
    case invalidWeight(Float)
    /// A teacher's logit that is not finite.
    case invalidLogit(row: Int, column: Int, value: Float)

    /// A one-line explanation naming the offending query, row, column or index.
    public var description: String {
        switch self {
        case .invalidDimension(let d): "embedding dimension must be positive, got \(d)"
        case .emptyBatch: "a contrastive loss needs at least one query"
        case .queryShapeMismatch(let expected, let actual): "query matrix holds \(actual) floats, expected \(expected)"
        case .candidateShapeMismatch(let count, let d): "candidate matrix of \(count) floats is not a non-empty whole number of rows of width \(d)"
        case .emptyPositives(let q): "query \(q) has no positive"
        case .positiveOutOfRange(let q, let index, let m): "query \(q): positive \(index) is outside 0..<\(m)"
        case .duplicatePositive(let q, let index): "query \(q) lists candidate \(index) twice"
        case .noNegatives(let q): "query \(q) has no negative candidate"
        case .invalidScale(let s): "similarity scale must be finite, got \(s)"
        case .invalidTargetShape(let count, let rows, let columns):
            "\(count) target values do not form a non-empty \(rows) x \(columns) matrix"
        case .targetsDoNotMatchScores(let tr, let tc, let sr, let sc): "targets are \(tr) x \(tc), scores are \(sr) x \(sc)"
        case .invalidTargetProbability(let r, let c, let v): "row \(r), column \(c): target probability \(v) is not a finite non-negative number"
        case .targetRowSum(let r, let sum): "row \(r) of the target distribution sums to \(sum), not 1"
        case .labelOutOfRange(let r, let c, let v): "row \(r), column \(c): label \(v) is not in [0, 1]"
        case .invalidPositiveWeight(let w): "positive weight must be finite and non-negative, got \(w)"
        case .invalidTemperature(let t): "temperature must be finite and positive, got \(t)"
        case .invalidTopK(let k, let alpha): "soft top-k needs k >= 1 and a finite positive alpha, got k \(k), alpha \(alpha)"
        case .topKTooLarge(let q, let k, let columns): "query \(q): soft top-k with k \(k) needs more than k candidates, has \(columns)"
        case .invalidWeight(let w): "loss weight must be in [0, 1], got \(w)"
        case .invalidLogit(let r, let c, let v): "row \(r), column \(c): logit \(v) is not finite"
        }
    }
}
