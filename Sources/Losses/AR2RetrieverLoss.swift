import Foundation

/// AR2's retriever loss (Zhang et al., ICLR 2022): the retriever learns, with the ranker frozen,
/// both to agree with the ranker and to put probability on the negatives that fool it.
///
/// Each row is one query's group: the positive in column 0, then negatives retrieved for it.
/// With the retriever's scores `s_i` (the score matrix), the ranker's logits `z_i` (the targets),
/// `lambda` (`--adv-lambda`) and the ranker's temperature `T`,
///
///     p_ret = softmax(s_i),            p_rank = softmax(z_i / T),
///     r(d)  = log sigmoid(z_i0 - z_id) for a negative d,  r(positive) = 0,
///     L_i   = lambda sum_d r(d) log p_ret(d)  +  (1 - lambda) (-sum_d p_rank(d) log p_ret(d)).
///
/// The second term distils the ranker into the retriever (`SoftTargetCrossEntropyLoss` with
/// `p_rank` as targets). The first is the adversarial one: `r(d) <= 0` is large in magnitude for
/// a negative the ranker scores near or above the positive, so minimising `r(d) log p_ret(d)`
/// (both factors negative) raises `p_ret(d)` most where the ranker is fooled: the retriever
/// learns to retrieve what the ranker gets wrong, which the next ranker steps then learn from.
///
/// Written `L_i = sum_d w_d log p_ret(d)` with `w_d = lambda r(d) - (1 - lambda) p_rank(d)`
/// (constants: no gradient reaches the ranker), the gradient is
///
///     dL_i/ds_ij = w_j - (sum_d w_d) p_ret(j).
///
/// Relations and differences from AR2's code (`wiki/co_training_wiki_train.py`):
/// - `lambda = 0` is `SoftTargetCrossEntropyLoss` against `TargetDistribution.softmax(of: z,
///   temperature: T)`, value and gradient.
/// - The code also gives the positive a reward, `log sigmoid(0) = -log 2`, and sums the
///   adversarial term over the batch while it averages the distillation term; here, as in the
///   paper, only negatives are rewarded, and both terms are sums over rows that the caller
///   averages alike, so `lambda` weighs them as written whatever the batch size.
/// - The code adds 1e-7 inside its logs; here `log p_ret` is `s - logsumexp(s)`, exact.
public struct AR2RetrieverLoss: ScoreLoss {
    /// `lambda`: the adversarial term's weight (the distillation term gets `1 - lambda`).
    public var lambda: Float
    /// `T`: the ranker's logits are divided by it before its softmax.
    public var temperature: Float

    /// AR2's MS MARCO settings are lambda 0.5 and temperature 1.
    public init(lambda: Float = 0.5, temperature: Float = 1) {
        self.lambda = lambda
        self.temperature = temperature
    }

    /// Checks the shape, a positive finite temperature, lambda in [0, 1], and at least one
    /// negative per row.
    public func validate(_ targets: RankerLogits, for scores: ScoreMatrix) throws(LossInputError) {
        try targets.validateShape(for: scores)
        guard temperature.isFinite, temperature > 0 else { throw .invalidTemperature(temperature) }
        guard lambda.isFinite, (0...1).contains(lambda) else { throw .invalidWeight(lambda) }
        guard scores.columns >= 2 else { throw .noNegatives(query: 0) }
    }

    /// `sum_i L_i` and its gradient over `scores`.
    public func lossAndGradient(overwriting scores: ScoreMatrix, targets: RankerLogits) -> Double {
        targets.preconditionShape(of: scores)
        let n = scores.columns
        let lambda = Double(self.lambda), inverse = 1 / Double(temperature)
        var weights = [Double](repeating: 0, count: n)
        var total = 0.0
        for i in 0..<scores.rows {
            let z = targets.values[(i * n)..<((i + 1) * n)].map(Double.init)
            // p_rank = softmax(z / T), stably.
            let top = z.map { $0 * inverse }.max() ?? 0
            let exps = z.map { Foundation.exp($0 * inverse - top) }
            let rankSum = exps.reduce(0, +)
            var weightSum = 0.0
            for j in 0..<n {
                // log sigmoid(x) = -log(1 + e^-x), computed without overflow for either sign.
                let margin = z[0] - z[j]
                let reward = j == 0 ? 0 : (margin >= 0 ? -Foundation.log1p(Foundation.exp(-margin)) : margin - Foundation.log1p(Foundation.exp(margin)))
                weights[j] = lambda * reward - (1 - lambda) * exps[j] / rankSum
                weightSum += weights[j]
            }
            let row = scores.row(i)
            let rowTop = (0..<n).map { Double(row[$0]) }.max() ?? 0
            var expSum = 0.0
            for j in 0..<n { expSum += Foundation.exp(Double(row[j]) - rowTop) }
            let logSum = rowTop + Foundation.log(expSum)
            for j in 0..<n {
                let logP = Double(row[j]) - logSum
                total += weights[j] * logP
                row[j] = Float(weights[j] - weightSum * Foundation.exp(logP))
            }
        }
        return total
    }
}

/// The ranker's logits over each row's group, positive first: the targets of `AR2RetrieverLoss`.
public struct RankerLogits: ScoreTargets, Equatable {
    /// `z_ij`, row-major `[rows, columns]`, column 0 the positive's.
    public let values: [Float]
    public let rows: Int
    public let columns: Int

    /// - Throws: `invalidTargetShape` for a wrong count or an empty shape,
    ///   `invalidLogit` for a non-finite logit.
    public init(values: [Float], rows: Int, columns: Int) throws(LossInputError) {
        try Self.checkMatrixShape(count: values.count, rows: rows, columns: columns)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidLogit(row: bad / columns, column: bad % columns, value: values[bad])
        }
        self.values = values
        self.rows = rows
        self.columns = columns
    }
}
