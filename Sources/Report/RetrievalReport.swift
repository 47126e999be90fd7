import DensekitCorpus
import DensekitEvaluation
import DensekitTraining
import Foundation

/// What `densekit report` shows: named runs scored against one set of qrels, and training
/// logs. Everything is computed here (by the `Evaluator`, with trec_eval's conventions, the
/// same code `densekit eval` runs); `ReportPage` only lays it out.
public struct RetrievalReport: Sendable {
    /// An input under the name the report gives it, with the file it came from (for notes):
    /// a `Run`, a training log's records (`train.jsonl`), or XMC label predictions
    /// (`doc_id<TAB>label<TAB>rank<TAB>score` lines, read into document -> ranked labels).
    public struct Named<Value: Sendable>: Sendable {
        public var name: String
        public var path: String
        public var value: Value
        public init(name: String, path: String, value: Value) {
            self.name = name
            self.path = path
            self.value = value
        }
    }
    public typealias NamedRun = Named<Run>
    public typealias NamedLog = Named<[TrainingLog.Record]>
    public typealias NamedPredictions = Named<[String: [String]]>

    /// One set of label predictions' scores, in `xmcMetrics` order.
    public struct ScoredPredictions: Sendable {
        public var name: String
        public var values: [Double]
    }

    /// One run's scores.
    public struct Scored: Sendable {
        public var name: String
        public var evaluation: Evaluation
        /// Mean R@k for k = 1...`RetrievalReport.curveDepth`.
        public var recallCurve: [Double]
    }

    /// Run B against run A, query by query, on `comparisonMetric`.
    public struct Comparison: Sendable {
        public var a: String, b: String
        /// B's value minus A's, per counted query.
        public var differences: [Double]
        public var wins: Int, ties: Int, losses: Int
        public var meanDifference: Double
        public var tTest: (t: Double, p: Double)?
        public var randomizationP: Double
        public var randomizationTrials: Int
    }

    /// The table's metrics.
    public static let metrics: [Metric] = [.mrr(cutoff: 10), .recall(cutoff: 10), .recall(cutoff: 100), .recall(cutoff: 1000), .ndcg(cutoff: 10), .map]
    /// Query by query, runs are compared on reciprocal rank (MS MARCO's measure).
    public static let comparisonMetric = Metric.mrr(cutoff: 10)
    /// The label predictions' table: pyxclib's metrics (PSP only with the training labels' propensities).
    public static let allXMCMetrics: [XMCMetric] = [.precision(1), .precision(3), .precision(5), .ndcg(5), .psPrecision(1), .psPrecision(5), .recall(10)]
    public static let curveDepth = 1000
    public static let randomizationTrials = 10_000

    public var title: String
    public var qrelsPath: String
    public var judgedQueries: Int
    public var scored: [Scored]
    public var comparisons: [Comparison]
    public var logs: [NamedLog]
    public var xmc: [ScoredPredictions]
    /// The columns of `xmc`'s values.
    public var xmcMetrics: [XMCMetric]
    /// Truth documents the label predictions are scored on (0 without predictions).
    public var xmcDocuments: Int
    /// Things a reader must know about the inputs (queries absent from the qrels or the run).
    public var notes: [String]

    /// Scores `runs` against `qrels` and compares the first run with each other one; scores
    /// label `predictions` against `xmcTruth` (documents' true labels, with `propensity` from the
    /// training labels).
    /// - Throws: `ReportError.duplicateName` when two runs, two logs or two predictions share a name.
    public init(title: String, qrels: Qrels, qrelsPath: String, runs: [NamedRun], logs: [NamedLog],
                predictions: [NamedPredictions] = [], xmcTruth: [String: [String]] = [:], propensity: InversePropensity? = nil) throws(ReportError) {
        for names in [runs.map(\.name), logs.map(\.name), predictions.map(\.name)] {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted { throw .duplicateName(name) }
        }
        self.title = title
        self.qrelsPath = qrelsPath
        self.logs = logs
        let evaluator = Evaluator(qrels: qrels, metrics: Self.metrics)
        let perQueryEvaluator = Evaluator(qrels: qrels, metrics: [Self.comparisonMetric])
        judgedQueries = evaluator.queryIds.count
        var notes: [String] = []
        var perQuery: [[Double]] = []
        scored = runs.map { named in
            let evaluation = evaluator.evaluate(named.value)
            if evaluation.ignoredRunQueries > 0 {
                notes.append("\(named.name) (\(named.path)): \(evaluation.ignoredRunQueries) of its \(named.value.queryCount) queries are not judged in \(qrelsPath) (no relevant document there) and are not scored")
            }
            if evaluation.queriesMissingFromRun > 0 {
                notes.append("\(named.name) (\(named.path)): \(evaluation.queriesMissingFromRun) of the \(evaluator.queryIds.count) judged queries have no ranking in the run; each scores 0 and counts in the means")
            }
            perQuery.append(perQueryEvaluator.evaluate(named.value, perQuery: true).perQuery.map { $0.values[0] })
            return Scored(name: named.name, evaluation: evaluation, recallCurve: evaluator.recallCurve(named.value, depth: Self.curveDepth))
        }
        comparisons = runs.indices.dropFirst().map { index in
            let (a, b) = (perQuery[0], perQuery[index])
            let differences = zip(b, a).map { $0 - $1 }
            return Comparison(a: runs[0].name, b: runs[index].name, differences: differences,
                              wins: differences.filter { $0 > 0 }.count, ties: differences.filter { $0 == 0 }.count,
                              losses: differences.filter { $0 < 0 }.count,
                              meanDifference: differences.isEmpty ? 0 : differences.reduce(0, +) / Double(differences.count),
                              tTest: PairedTests.tTest(a, b), randomizationP: PairedTests.randomization(a, b, trials: Self.randomizationTrials),
                              randomizationTrials: Self.randomizationTrials)
        }
        xmcDocuments = predictions.isEmpty ? 0 : xmcTruth.count
        let xmcMetrics = Self.allXMCMetrics.filter { propensity != nil || !$0.needsPropensity }
        self.xmcMetrics = xmcMetrics
        let xmcEvaluator = XMCEvaluator(truth: xmcTruth, propensity: propensity)
        var scoredPredictions: [ScoredPredictions] = []
        for named in predictions {
            let result: XMCEvaluator.Report
            // Only metrics the propensity allows are asked for: nothing to throw.
            do { result = try xmcEvaluator.evaluate(named.value, metrics: xmcMetrics) } catch { preconditionFailure("\(error)") }
            if result.documentsWithoutPredictions > 0 {
                notes.append("\(named.name) (\(named.path)): \(result.documentsWithoutPredictions) of the \(xmcTruth.count) documents have no prediction and score 0")
            }
            if result.unknownDocuments > 0 {
                notes.append("\(named.name) (\(named.path)): \(result.unknownDocuments) predicted documents have no true labels given and are not scored")
            }
            scoredPredictions.append(ScoredPredictions(name: named.name, values: xmcMetrics.map { result.metrics[$0] ?? 0 }))
        }
        xmc = scoredPredictions
        self.notes = notes
    }
}

/// Inputs a report refuses.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    case duplicateName(String)
    case badNamedPath(String)

    public var description: String {
        switch self {
        case let .duplicateName(name): "two inputs are named '\(name)': give each run (and each training log) its own NAME"
        case let .badNamedPath(text): "'\(text)' is not NAME=PATH"
        }
    }
}
