import Foundation

/// Soft targets: for each row (query), a probability distribution over its columns (candidates).
///
/// The targets of `SoftTargetCrossEntropyLoss`: a teacher's distribution to distil (a ranker's
/// `softmax(s / T)`, as AR2 trains its retriever on its ranker's), graded relevance normalised per
/// query (ListNet), or one-hot rows (which make the soft loss the listwise one).
public struct TargetDistribution: ScoreTargets, Equatable {
    /// `t_ij`, row-major `[rows, columns]`; each row is non-negative and sums to 1 within 1e-4.
    public let values: [Float]
    /// Number of rows (queries).
    public let rows: Int
    /// Number of columns (candidates).
    public let columns: Int

    /// How far a row's sum may be from 1: Float rows from a softmax or a division are a few ulp
    /// off, and a row that is further off is a bug (unnormalised relevance, a dropped column).
    public static let sumTolerance = 1e-4

    /// Checks that `values` is a non-empty `rows x columns` matrix whose rows are distributions.
    ///
    /// - Throws: `invalidTargetShape` for a wrong count or an empty shape,
    ///   `invalidTargetProbability` for a negative or non-finite entry, `targetRowSum` for a row
    ///   that does not sum to 1 within `sumTolerance`.
    public init(values: [Float], rows: Int, columns: Int) throws(LossInputError) {
        try Self.checkMatrixShape(count: values.count, rows: rows, columns: columns)
        for i in 0..<rows {
            var sum = 0.0
            for j in 0..<columns {
                let t = values[i * columns + j]
                // `t >= 0` is false for NaN, so NaN is rejected here too.
                guard t >= 0, t.isFinite else { throw .invalidTargetProbability(row: i, column: j, value: t) }
                sum += Double(t)
            }
            guard abs(sum - 1) <= Self.sumTolerance else { throw .targetRowSum(row: i, sum: sum) }
        }
        self.init(unchecked: values, rows: rows, columns: columns)
    }

    private init(unchecked values: [Float], rows: Int, columns: Int) {
        self.values = values
        self.rows = rows
        self.columns = columns
    }

    /// `t_ij`.
    public subscript(row: Int, column: Int) -> Float { values[row * columns + column] }

    /// A ranker's distribution `p_i = softmax(s_i / temperature)` over each row of `scores`
    /// (row-major `[rows, columns]`): AR2's target for its retriever, or any teacher's to distil.
    ///
    /// Stable for any finite scores: the row maximum is subtracted before exponentiating, and the
    /// arithmetic is in Double, so rows sum to 1 to Float precision. A row holding NaN or `+inf`,
    /// or only `-inf`, comes out NaN (it was not checked, being computed): the loss on it is then
    /// NaN, which a trainer's NaN check catches, as with non-finite embeddings.
    ///
    /// - Precondition: `rows > 0`, `columns > 0`, `scores.count == rows * columns`, and
    ///   `temperature` finite and positive (these come from code, not data).
    public static func softmax(of scores: [Float], rows: Int, columns: Int, temperature: Float = 1) -> TargetDistribution {
        precondition(rows > 0 && columns > 0 && scores.count == rows * columns,
                     "\(scores.count) scores do not form a non-empty \(rows) x \(columns) matrix")
        precondition(temperature.isFinite && temperature > 0, "temperature must be finite and positive, got \(temperature)")
        let inverse = 1 / Double(temperature)
        var values = [Float](repeating: 0, count: scores.count)
        var row = [Double](repeating: 0, count: columns)
        for i in 0..<rows {
            let base = i * columns
            var maximum = -Double.infinity
            for j in 0..<columns {
                row[j] = Double(scores[base + j]) * inverse
                // NaN never compares greater, so it would not reach the maximum: carry it instead.
                maximum = row[j].isNaN ? .nan : max(maximum, row[j])
            }
            var total = 0.0
            for j in 0..<columns {
                row[j] = Foundation.exp(row[j] - maximum)
                total += row[j]
            }
            for j in 0..<columns { values[base + j] = Float(row[j] / total) }
        }
        return TargetDistribution(unchecked: values, rows: rows, columns: columns)
    }
}
