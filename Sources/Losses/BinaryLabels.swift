/// Per-entry relevance labels `y_ij` in `[0, 1]` for a score matrix: the targets of
/// `BinaryCrossEntropyLoss`.
///
/// Usually 0 or 1 (irrelevant or relevant pair), but soft labels are allowed, as in torch's
/// `BCEWithLogitsLoss`: a graded judgement rescaled to `[0, 1]`, or a teacher's probability.
public struct BinaryLabels: ScoreTargets, Equatable {
    /// `y_ij`, row-major `[rows, columns]`, each in `[0, 1]`.
    public let values: [Float]
    /// Number of rows (queries).
    public let rows: Int
    /// Number of columns (candidates).
    public let columns: Int

    /// Checks that `values` is a non-empty `rows x columns` matrix of numbers in `[0, 1]`.
    ///
    /// - Throws: `invalidTargetShape` for a wrong count or an empty shape, `labelOutOfRange` for
    ///   a label below 0, above 1, or NaN.
    public init(values: [Float], rows: Int, columns: Int) throws(LossInputError) {
        try Self.checkMatrixShape(count: values.count, rows: rows, columns: columns)
        for (index, y) in values.enumerated() {
            // Both comparisons are false for NaN, so it is rejected too; infinities are out of range.
            guard y >= 0, y <= 1 else {
                throw .labelOutOfRange(row: index / columns, column: index % columns, value: y)
            }
        }
        self.values = values
        self.rows = rows
        self.columns = columns
    }

    /// `y_ij`.
    public subscript(row: Int, column: Int) -> Float { values[row * columns + column] }
}
