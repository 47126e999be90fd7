import DensekitCorpus

/// Scores runs against qrels with trec_eval's conventions.
///
/// - Which queries count: those of the qrels with at least one relevant document (relevance > 0);
///   qrels queries without one are skipped, as trec_eval skips them. A counted query that the run
///   lacks scores 0 on every metric and still counts in the mean (trec_eval `-c`, and the official
///   MS MARCO script). Run queries that are not counted are ignored.
/// - Rankings are used in the order the `Run` gives (`RunReader` applies trec_eval's score order to
///   TREC files); a document repeated within a ranking keeps its first, best-ranked occurrence.
/// - Binary relevance (MRR, recall, precision, MAP) is relevance > 0; nDCG uses graded gains.
/// - Means are arithmetic over the counted queries, summed in query-id order so that results are
///   the same on every run of the program; 0 when no query counts.
public struct Evaluator: Sendable {
    /// The metrics computed, in report order.
    public let metrics: [Metric]
    /// The counted queries, in report order (numeric ids numerically, then the others by text).
    public let queryIds: [String]
    private let judged: [String: JudgedQuery]
    /// How deep rankings are read: the largest cutoff, or nil when a metric needs the whole ranking.
    private let depth: Int?

    /// Prepares `qrels` (ideal gains, relevant counts) for evaluating runs with `metrics`.
    public init(qrels: Qrels, metrics: [Metric]) {
        self.metrics = metrics
        var judged: [String: JudgedQuery] = [:]
        for (queryId, relevance) in qrels {
            let query = JudgedQuery(relevance)
            if query.relevantCount > 0 { judged[queryId] = query }
        }
        self.judged = judged
        queryIds = judged.keys.sorted(by: Self.queryOrder)
        var depth: Int? = 0
        for metric in metrics {
            guard let metricDepth = metric.depth else { depth = nil; break }
            depth = max(depth ?? 0, metricDepth)
        }
        self.depth = depth
    }

    /// Scores `run`; with `perQuery`, the result also holds every counted query's values.
    public func evaluate(_ run: Run, perQuery: Bool = false) -> Evaluation {
        var sums = [Double](repeating: 0, count: metrics.count)
        var rows: [QueryScores] = []
        var missing = 0, duplicates = 0
        var seen = Set<String>()
        var relevances: [Int] = []
        for queryId in queryIds {
            guard let query = judged[queryId] else { continue }
            let ranking = run.rankings[queryId]
            if ranking == nil { missing += 1 }
            duplicates += judge(ranking ?? [], query: query, seen: &seen, into: &relevances)
            var values = [Double](repeating: 0, count: metrics.count)
            for (index, metric) in metrics.enumerated() {
                values[index] = MetricFormulas.value(of: metric, relevances: relevances, query: query)
                sums[index] += values[index]
            }
            if perQuery { rows.append(QueryScores(queryId: queryId, values: values)) }
        }
        let count = queryIds.count
        let ignored = run.rankings.keys.reduce(0) { $0 + (judged[$1] == nil ? 1 : 0) }
        return Evaluation(
            metrics: metrics, means: sums.map { count > 0 ? $0 / Double(count) : 0 }, queryCount: count,
            perQuery: rows, queriesMissingFromRun: missing, ignoredRunQueries: ignored, duplicateDocuments: duplicates)
    }

    /// Mean recall at every cutoff 1...`depth` at once: element k - 1 is R@k as `evaluate`
    /// computes it (same counted queries, repeats dropped, a missing query 0), in one pass over
    /// each ranking instead of one per cutoff.
    public func recallCurve(_ run: Run, depth: Int) -> [Double] {
        guard depth > 0 else { return [] }
        var found = [Double](repeating: 0, count: depth)  // per rank, the relevant share found there, summed over queries
        var seen = Set<String>(), relevances: [Int] = []
        let reader = Evaluator(qrels: [:], metrics: [.recall(cutoff: depth)])
        for queryId in queryIds {
            guard let query = judged[queryId], let ranking = run.rankings[queryId] else { continue }
            _ = reader.judge(ranking, query: query, seen: &seen, into: &relevances)
            for (rank, relevance) in relevances.enumerated() where relevance > 0 { found[rank] += 1 / Double(query.relevantCount) }
        }
        var curve = [Double](repeating: 0, count: depth), sum = 0.0
        let count = Double(max(1, queryIds.count))
        for k in 0..<depth {
            sum += found[k]
            curve[k] = sum / count
        }
        return curve
    }

    /// The values of one query's ranking, in `metrics` order; nil when the query is not counted
    /// (not in the qrels, or without relevant documents).
    public func scores(queryId: String, ranking: [RankedDoc]) -> [Double]? {
        guard let query = judged[queryId] else { return nil }
        var seen = Set<String>(), relevances: [Int] = []
        _ = judge(ranking, query: query, seen: &seen, into: &relevances)
        return metrics.map { MetricFormulas.value(of: $0, relevances: relevances, query: query) }
    }

    /// Fills `relevances` with the relevance of each distinct document of `ranking` (0 when
    /// unjudged) down to the depth the metrics need; returns how many repeats were dropped.
    private func judge(_ ranking: [RankedDoc], query: JudgedQuery, seen: inout Set<String>, into relevances: inout [Int]) -> Int {
        relevances.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
        let depth = depth ?? ranking.count
        var duplicates = 0
        for doc in ranking {
            if relevances.count == depth { break }
            guard seen.insert(doc.docId).inserted else {
                duplicates += 1
                continue
            }
            relevances.append(query.relevance[doc.docId] ?? 0)
        }
        return duplicates
    }

    /// Numeric ids (MS MARCO, TREC topics) in numeric order, before other ids in text order.
    static func queryOrder(_ a: String, _ b: String) -> Bool {
        switch (Int(a), Int(b)) {
        case let (x?, y?): x != y ? x < y : a < b
        case (_?, nil): true
        case (nil, _?): false
        case (nil, nil): a < b
        }
    }
}
