import DensekitCorpus
import DensekitEvaluation
import DensekitTestSupport
import Foundation

/// Small builders for the evaluation tests.
enum Toy {
    /// A run from doc ids in rank order (no scores).
    static func run(_ rankings: [String: [String]]) -> Run {
        Run(rankings: rankings.mapValues { $0.map { RankedDoc(docId: $0) } })
    }

    /// Evaluates `run` against `qrels` with `metrics` given by name.
    static func evaluate(_ qrels: Qrels, _ run: Run, _ metrics: String, perQuery: Bool = false) throws -> Evaluation {
        Evaluator(qrels: qrels, metrics: try Metric.parseList(metrics)).evaluate(run, perQuery: perQuery)
    }

    /// The means by canonical metric name.
    static func means(_ evaluation: Evaluation) -> [String: Double] { evaluation.meansByName }

    static func file(_ text: String, name: String) throws -> String {
        let folder = try TestScratch.folder("eval")
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// Whether two metric values agree to rounding error.
    static func close(_ a: Double?, _ b: Double) -> Bool {
        guard let a else { return false }
        return abs(a - b) < 1e-12
    }
}
