/// A mutable view of the score matrix `S = [s_ij]`, `[rows = queries, columns = candidates]`,
/// row-major, handed to a `ScoreLoss` (a `ContrastiveLoss`, or a cross-encoder loss on logits)
/// for the duration of one evaluation.
///
/// It borrows storage owned by the caller: do not keep it past the call it was passed to.
public struct ScoreMatrix {
    /// The first score; row `i` starts at `values + i * columns`.
    public let values: UnsafeMutablePointer<Float>
    /// Number of queries.
    public let rows: Int
    /// Number of candidates.
    public let columns: Int

    /// Wraps `rows * columns` floats at `values`.
    public init(values: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        self.values = values
        self.rows = rows
        self.columns = columns
    }

    /// The start of row `row` (query `row`'s scores against every candidate).
    @inline(__always)
    public func row(_ row: Int) -> UnsafeMutablePointer<Float> { values + row * columns }

    /// The score (or, once a loss has run, the gradient) of query `row` and candidate `column`.
    @inline(__always)
    public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        nonmutating set { values[row * columns + column] = newValue }
    }
}
