import DensekitCorpus
import Foundation

/// An extreme multi-label classification metric at a cutoff, as pyxclib
/// (`xclib/evaluation/xc_metrics.py`) defines it; `XMCEvaluator` computes them.
///
/// With `y_i` the true labels of document `i`, `l_1, l_2, ...` its predicted labels best first,
/// `1/p_l` a label's inverse propensity (`InversePropensity`) and means over every document of
/// the truth (a document without predictions scores 0):
/// - `P@k`: mean of `|{r <= k : l_r in y_i}| / k`.
/// - `R@k`: mean of `|{r <= k : l_r in y_i}| / |y_i|`.
/// - `nDCG@k`: mean of `sum_{r <= k, l_r in y_i} 1/log2(r+1)` over
///   `sum_{r <= min(k, |y_i|)} 1/log2(r+1)`.
/// - `PSP@k`: `sum_i sum_{r <= k, l_r in y_i} 1/p_{l_r}` over the same sum for the best possible
///   ranking (each document's true labels by `1/p`, largest first): a ratio of means, as
///   pyxclib's `psprecision` (not a mean of ratios).
/// - `PSnDCG@k`: likewise, propensity-weighted DCG normalised per document as nDCG, then the
///   ratio of its mean to the best ranking's.
public enum XMCMetric: Hashable, Sendable, CustomStringConvertible {
    case precision(Int)
    case recall(Int)
    case ndcg(Int)
    case psPrecision(Int)
    case psNDCG(Int)

    /// The accepted spellings, for messages and help.
    public static let validForms = "P@k, R@k, nDCG@k, PSP@k, PSnDCG@k (case-insensitive, k a positive integer)"

    public var description: String {
        switch self {
        case .precision(let k): "P@\(k)"
        case .recall(let k): "R@\(k)"
        case .ndcg(let k): "nDCG@\(k)"
        case .psPrecision(let k): "PSP@\(k)"
        case .psNDCG(let k): "PSnDCG@\(k)"
        }
    }

    public var cutoff: Int {
        switch self {
        case .precision(let k), .recall(let k), .ndcg(let k), .psPrecision(let k), .psNDCG(let k): k
        }
    }

    /// Whether it needs label propensities (the training labels).
    public var needsPropensity: Bool {
        switch self {
        case .psPrecision, .psNDCG: true
        default: false
        }
    }

    /// Parses `P@5`, `psp@1`, `ndcg@5`, ... (surrounding spaces ignored); nil for anything else.
    public init?(_ name: String) {
        let parts = name.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[1]), k > 0, String(k) == parts[1] else { return nil }
        switch parts[0] {
        case "p", "precision": self = .precision(k)
        case "r", "recall": self = .recall(k)
        case "ndcg": self = .ndcg(k)
        case "psp", "psprecision": self = .psPrecision(k)
        case "psndcg": self = .psNDCG(k)
        default: return nil
        }
    }

    /// A comma-separated list such as `P@1,P@3,PSP@5`; repeats kept once, in first-seen order.
    /// - Throws: `MetricNameError` for the first bad name, or for a list with no metric.
    public static func parseList(_ list: String) throws(MetricNameError) -> [XMCMetric] {
        var metrics: [XMCMetric] = []
        for item in list.split(separator: ",") where !item.allSatisfy(\.isWhitespace) {
            guard let metric = XMCMetric(String(item)) else {
                throw MetricNameError(name: item.trimmingCharacters(in: .whitespaces), reason: "not an XMC metric", validForms: validForms)
            }
            if !metrics.contains(metric) { metrics.append(metric) }
        }
        guard !metrics.isEmpty else { throw MetricNameError(name: list, reason: "no metric given", validForms: validForms) }
        return metrics
    }
}

/// Inverse label propensities of Jain et al. (2016), from the training label counts:
/// `1/p_l = 1 + C (n_l + B)^-A` with `C = (ln N - 1)(B + 1)^A`, `N` training documents and `n_l`
/// those carrying label `l` (0 for a label training never saw). pyxclib's defaults, A 0.55 and
/// B 1.5, are for datasets other than Wikipedia (0.5, 0.4) and Amazon (0.6, 2.6).
public struct InversePropensity: Sendable {
    public let a: Double, b: Double
    public let documents: Int
    private let counts: [String: Int]
    private let c: Double

    public init(labelCounts: [String: Int], documents: Int, a: Double = 0.55, b: Double = 1.5) {
        self.a = a
        self.b = b
        self.documents = documents
        counts = labelCounts
        c = (Foundation.log(Double(documents)) - 1) * Foundation.pow(b + 1, a)
    }

    /// From training documents' label lists.
    public init(trainingLabels: [[String]], a: Double = 0.55, b: Double = 1.5) {
        var counts: [String: Int] = [:]
        for labels in trainingLabels { for label in Set(labels) { counts[label, default: 0] += 1 } }
        self.init(labelCounts: counts, documents: trainingLabels.count, a: a, b: b)
    }

    /// `1/p_label`.
    public subscript(label: String) -> Double { 1 + c * Foundation.pow(Double(counts[label] ?? 0) + b, -a) }
}

/// Scores ranked label predictions against the true labels with `XMCMetric`s.
public struct XMCEvaluator: Sendable {
    /// Each document's true labels.
    public let truth: [String: Set<String>]
    public let propensity: InversePropensity?

    public init(truth: [String: [String]], propensity: InversePropensity? = nil) {
        self.truth = truth.mapValues(Set.init)
        self.propensity = propensity
    }

    /// What evaluating found beside the scores.
    public struct Report: Sendable {
        public var metrics: [XMCMetric: Double]
        /// Documents of the truth with no prediction (scored 0).
        public var documentsWithoutPredictions: Int
        /// Predicted documents the truth does not have (ignored).
        public var unknownDocuments: Int
    }

    /// Every metric over every document of the truth.
    /// - Parameter predictions: each document's labels, best first.
    /// - Throws: `MissingPropensity` for a propensity metric without propensities.
    public func evaluate(_ predictions: [String: [String]], metrics: [XMCMetric]) throws(MissingPropensity) -> Report {
        if let metric = metrics.first(where: \.needsPropensity), propensity == nil { throw MissingPropensity(metric: metric) }
        var sums = [XMCMetric: (value: Double, best: Double)]()
        for metric in metrics { sums[metric] = (0, 0) }
        var missing = 0
        for (document, labels) in truth {
            let ranked = predictions[document] ?? []
            if predictions[document] == nil { missing += 1 }
            for metric in metrics {
                let (value, best) = score(metric, ranked: ranked, truth: labels)
                sums[metric]?.value += value
                sums[metric]?.best += best
            }
        }
        let n = Double(max(1, truth.count))
        var values: [XMCMetric: Double] = [:]
        for metric in metrics {
            let (value, best) = sums[metric] ?? (0, 0)
            values[metric] = metric.needsPropensity ? (best > 0 ? value / best : 0) : value / n
        }
        return Report(metrics: values, documentsWithoutPredictions: missing,
                      unknownDocuments: predictions.keys.filter { truth[$0] == nil }.count)
    }

    /// One document's contribution: its value, and for propensity metrics the best ranking's.
    private func score(_ metric: XMCMetric, ranked: [String], truth labels: Set<String>) -> (Double, Double) {
        let k = metric.cutoff
        let top = ranked.prefix(k)
        func discount(_ rank: Int) -> Double { 1 / log2(Double(rank) + 2) }
        let idealDCG = (0..<min(k, labels.count)).reduce(0.0) { $0 + discount($1) }
        switch metric {
        case .precision:
            return (Double(top.filter(labels.contains).count) / Double(k), 0)
        case .recall:
            return (Double(top.filter(labels.contains).count) / Double(max(1, labels.count)), 0)
        case .ndcg:
            let dcg = top.enumerated().reduce(0.0) { $0 + (labels.contains($1.element) ? discount($1.offset) : 0) }
            return (idealDCG > 0 ? dcg / idealDCG : 0, 0)
        case .psPrecision, .psNDCG:
            guard let propensity else { return (0, 0) }
            let weights = top.map { labels.contains($0) ? propensity[$0] : 0 }
            // The best ranking: the true labels by inverse propensity, largest first.
            let best = labels.map { propensity[$0] }.sorted(by: >).prefix(k)
            if case .psPrecision = metric { return (weights.reduce(0, +) / Double(k), best.reduce(0, +) / Double(k)) }
            let dcg = weights.enumerated().reduce(0.0) { $0 + $1.element * discount($1.offset) }
            let bestDCG = best.enumerated().reduce(0.0) { $0 + $1.element * discount($1.offset) }
            return idealDCG > 0 ? (dcg / idealDCG, bestDCG / idealDCG) : (0, 0)
        }
    }
}

/// A propensity-scored metric asked for without the training labels its propensities come from.
public struct MissingPropensity: Error, CustomStringConvertible, Sendable {
    public let metric: XMCMetric
    public var description: String { "\(metric) weighs labels by their propensity, which needs the training labels (--train)" }
}

/// Label predictions: lines `doc_id<TAB>label<TAB>rank<TAB>score` (what `densekit xmc predict`
/// writes), any order; each document's labels come back by rank, equal ranks in file order, a
/// label repeated in one document kept at its best rank.
public enum XMCPredictionsReader {
    /// Every document's ranked labels.
    /// - Throws: `CorpusError` with file and line for a line without four tab-separated fields, a
    ///   rank that is not a positive integer, or a score that is not a finite number.
    public static func read(path: String) throws(CorpusError) -> [String: [String]] {
        let lines = try LineReader(path: path)
        var entries: [String: [(rank: Int, order: Int, label: String)]] = [:]
        var order = 0
        while let line = try lines.nextLine() {
            if line.text.allSatisfy(\.isWhitespace) { continue }
            let fields = line.text.split(separator: "\t", omittingEmptySubsequences: false)
            func fail(_ reason: String) -> CorpusError { CorpusError(path: path, line: line.number, reason: reason) }
            guard fields.count == 4 else { throw fail("expected doc_id<TAB>label<TAB>rank<TAB>score, found \(fields.count) field\(fields.count == 1 ? "" : "s")") }
            guard !fields[0].isEmpty, !fields[1].isEmpty else { throw fail("empty document id or label") }
            guard let rank = Int(fields[2]), rank > 0 else { throw fail("rank '\(fields[2])' is not a positive integer") }
            guard let score = Double(fields[3]), score.isFinite else { throw fail("score '\(fields[3])' is not a finite number") }
            _ = score
            entries[String(fields[0]), default: []].append((rank, order, String(fields[1])))
            order += 1
        }
        return entries.mapValues { list in
            var seen = Set<String>()
            return list.sorted { ($0.rank, $0.order) < ($1.rank, $1.order) }.map(\.label).filter { seen.insert($0).inserted }
        }
    }
}
