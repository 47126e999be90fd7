/// Why a contrastive loss refused its inputs.
///
/// Positive lists are built from data (qrels, batch composition), so a bad one is reported as an
/// error the trainer can attach to the batch, rather than a crash.
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

    /// A one-line explanation naming the offending query or index.
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
        }
    }
}
