/// A retrieval metric, with trec_eval's definitions (see `Evaluator`).
public enum Metric: Hashable, Sendable, CustomStringConvertible {
    /// Reciprocal rank of the first relevant document within the top `cutoff` (nil: all), 0 if none.
    case mrr(cutoff: Int?)
    /// Relevant documents in the top `cutoff` / all relevant documents of the query.
    case recall(cutoff: Int)
    /// Graded nDCG over the top `cutoff` (nil: all): gain = relevance, discount log2(rank + 1).
    case ndcg(cutoff: Int?)
    /// Relevant documents in the top `cutoff` / `cutoff`.
    case precision(cutoff: Int)
    /// Average precision over the whole ranking (trec_eval `map`).
    case map

    /// The accepted spellings, for messages and help.
    public static let validForms = "MRR@k, MRR, R@k (or Recall@k), nDCG@k, nDCG, P@k, MAP (case-insensitive, k a positive integer)"

    /// The metrics densekit reports by default.
    public static let defaults: [Metric] = [.mrr(cutoff: 10), .recall(cutoff: 10), .recall(cutoff: 100), .recall(cutoff: 1000), .ndcg(cutoff: 10), .map]

    /// The canonical name: MRR@10, R@100, nDCG@10, P@5, MAP, MRR, nDCG.
    public var description: String {
        switch self {
        case .mrr(let k): k.map { "MRR@\($0)" } ?? "MRR"
        case .recall(let k): "R@\(k)"
        case .ndcg(let k): k.map { "nDCG@\($0)" } ?? "nDCG"
        case .precision(let k): "P@\(k)"
        case .map: "MAP"
        }
    }

    /// How deep into a ranking the metric looks; nil for the whole ranking.
    public var depth: Int? {
        switch self {
        case .mrr(let k), .ndcg(let k): k
        case .recall(let k), .precision(let k): k
        case .map: nil
        }
    }

    /// Parses one name such as `MRR@10`, `recall@100`, `ndcg@10`, `map` (surrounding spaces ignored).
    /// - Throws: `MetricNameError` naming the input and listing the valid forms.
    public init(parsing name: String) throws(MetricNameError) {
        let trimmed = String(name.drop(while: Self.isBlank).reversed().drop(while: Self.isBlank).reversed())
        let parts = trimmed.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let base = parts[0].lowercased()
        var cutoff: Int?
        if parts.count == 2 {
            guard let k = Int(parts[1]), k > 0 else {
                throw MetricNameError(name: trimmed, reason: "the cutoff '\(parts[1])' is not a positive integer")
            }
            cutoff = k
        }
        switch (base, cutoff) {
        case ("mrr", _): self = .mrr(cutoff: cutoff)
        case ("ndcg", _): self = .ndcg(cutoff: cutoff)
        case ("r", let k?), ("recall", let k?): self = .recall(cutoff: k)
        case ("p", let k?): self = .precision(cutoff: k)
        case ("map", nil): self = .map
        case ("r", nil), ("recall", nil), ("p", nil):
            throw MetricNameError(name: trimmed, reason: "needs a cutoff, e.g. \(parts[0])@10")
        case ("map", _?):
            throw MetricNameError(name: trimmed, reason: "MAP is computed over the whole ranking and takes no cutoff")
        default:
            throw MetricNameError(name: trimmed, reason: "unknown metric")
        }
    }

    private static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }

    /// Parses a comma-separated list such as `MRR@10,R@100,nDCG@10,MAP`; repeated metrics are
    /// kept once, in first-seen order, and empty items (a trailing comma) are ignored.
    /// - Throws: `MetricNameError` for the first bad name, or for a list with no metric.
    public static func parseList(_ list: String) throws(MetricNameError) -> [Metric] {
        var metrics: [Metric] = []
        for item in list.split(separator: ",") where !item.allSatisfy(isBlank) {
            let metric = try Metric(parsing: String(item))
            if !metrics.contains(metric) { metrics.append(metric) }
        }
        guard !metrics.isEmpty else { throw MetricNameError(name: list, reason: "no metric given") }
        return metrics
    }
}

/// A metric name that could not be parsed.
public struct MetricNameError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The name as given.
    public let name: String
    /// What is wrong with it.
    public let reason: String
    /// The spellings the parser accepts.
    public let validForms: String

    /// An error for `name`.
    public init(name: String, reason: String, validForms: String = Metric.validForms) {
        self.name = name
        self.reason = reason
        self.validForms = validForms
    }

    /// "metric 'X': reason; valid forms: ...".
    public var description: String { "metric '\(name)': \(reason); valid forms: \(validForms)" }
}
