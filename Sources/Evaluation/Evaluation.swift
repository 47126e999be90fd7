/// The values of one query, in the order of `Evaluation.metrics`.
public struct QueryScores: Sendable, Equatable {
    /// The query.
    public let queryId: String
    /// One value per metric.
    public let values: [Double]

    /// The values of `queryId`.
    public init(queryId: String, values: [Double]) {
        self.queryId = queryId
        self.values = values
    }
}

/// The result of `Evaluator.evaluate`: per-metric means over the counted queries.
public struct Evaluation: Sendable {
    /// The metrics, in report order.
    public let metrics: [Metric]
    /// Mean of each metric over `queryCount` queries, in `metrics` order.
    public let means: [Double]
    /// Queries counted: those of the qrels with at least one relevant document.
    public let queryCount: Int
    /// Each counted query's values, in `Evaluator.queryIds` order; empty unless asked for.
    public let perQuery: [QueryScores]
    /// Counted queries the run has no ranking for (they score 0).
    public let queriesMissingFromRun: Int
    /// Run queries not counted (absent from the qrels or without relevant documents).
    public let ignoredRunQueries: Int
    /// Repeated documents dropped from rankings (within the depth the metrics read).
    public let duplicateDocuments: Int

    /// The mean of `metric`; nil when it was not computed.
    public func mean(of metric: Metric) -> Double? {
        metrics.firstIndex(of: metric).map { means[$0] }
    }

    /// Each metric's name (`Metric.description`) and mean: what training logs record.
    public var meansByName: [String: Double] {
        Dictionary(zip(metrics.map(\.description), means), uniquingKeysWith: { first, _ in first })
    }

    /// The means on one line, in report order: `MRR@10 0.5599, R@10 0.7703`.
    public var meansLine: String {
        zip(metrics, means).map { "\($0.description) \(String(format: "%.4f", $1))" }.joined(separator: ", ")
    }
}
