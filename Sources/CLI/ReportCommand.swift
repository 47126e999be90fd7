import ArgumentParser
import DensekitCorpus
import DensekitEvaluation
import DensekitReport
import DensekitTraining
import Foundation

/// `densekit report`: runs and training logs as one HTML page a person reads.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML report: metrics of runs, recall@k curves, per-query comparison with significance tests, training curves.",
        discussion: """
        One self-contained file (inline SVG charts, no script, font or network request). With --qrels and runs: a table of MRR@10, R@10, R@100, R@1000, nDCG@10 and MAP per run (as `densekit eval` computes them, trec_eval's conventions), the best of each column marked; recall@k for k = 1..1000 on a log scale; and the first run against each other one query by query on reciprocal rank: a sorted difference plot, wins / ties / losses, a two-sided paired randomization test (10,000 permutations, seeded) and a paired t-test. With training logs (a model folder or its train.jsonl): loss, learning rate and dev MRR@10 against the step.

        Examples:
          densekit report --qrels qrels.dev.tsv --run zero-shot=run.zero.tsv --run tuned=run.tuned.tsv --training-log tuned=model/ -o report.html
        """)

    @Option(name: .long, help: "Relevance judgments the runs are scored against.")
    var qrels: String?

    @Option(name: .customLong("run"), help: "A run as NAME=PATH (or PATH: named by its file name); repeat for more. The first is the baseline the others are compared with.")
    var runs: [String] = []

    @Option(name: .customLong("training-log"), help: "A training log as NAME=PATH (a model folder or its train.jsonl; or PATH alone: named by its folder); repeatable.")
    var trainingLogs: [String] = []

    @Option(name: .customLong("predictions"), help: "XMC label predictions as NAME=PATH (doc_id<TAB>label<TAB>rank<TAB>score lines); repeatable; needs --xmc-truth.")
    var predictions: [String] = []

    @Option(name: .customLong("xmc-truth"), help: "Documents with their true labels (JSON lines {\"id\", \"text\", \"labels\"}) for --predictions.")
    var xmcTruth: String?

    @Option(name: .customLong("xmc-train"), help: "Training documents with labels: the propensities of PSP@1 and PSP@5 (pyxclib's A 0.55, B 1.5).")
    var xmcTrain: String?

    @Option(name: .long, help: "The report's heading.")
    var title = "densekit report"

    @Option(name: [.short, .customLong("output")], help: "The HTML file to write.")
    var output: String

    func validate() throws {
        guard !runs.isEmpty || !trainingLogs.isEmpty || !predictions.isEmpty else {
            throw ValidationError("give --run NAME=PATH (with --qrels), --predictions NAME=PATH (with --xmc-truth) or --training-log")
        }
        if !runs.isEmpty && qrels == nil { throw ValidationError("--run needs --qrels to score it against") }
        if !predictions.isEmpty && xmcTruth == nil { throw ValidationError("--predictions needs --xmc-truth (the documents' true labels)") }
    }

    func run() throws {
        let named = try runs.map { try Self.split($0, defaultName: { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }) }
        let logs = try trainingLogs.map { text -> RetrievalReport.NamedLog in
            let (name, path) = try Self.split(text, defaultName: { path in
                let url = URL(fileURLWithPath: path)
                return (url.lastPathComponent == TrainingLog.fileName ? url.deletingLastPathComponent() : url).lastPathComponent
            })
            var isFolder: ObjCBool = false
            let file = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue ? path + "/" + TrainingLog.fileName : path
            return RetrievalReport.NamedLog(name: name, path: file, value: try TrainingLog.read(URL(fileURLWithPath: file)))
        }
        let judgments = try qrels.map { try QrelsReader.read(path: $0) } ?? [:]
        let loaded = try named.map { name, path in RetrievalReport.NamedRun(name: name, path: path, value: try RunReader.read(path: path).run) }
        let labelled = try predictions.map { text -> RetrievalReport.NamedPredictions in
            let (name, path) = try Self.split(text, defaultName: { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent })
            return RetrievalReport.NamedPredictions(name: name, path: path, value: try XMCPredictionsReader.read(path: path))
        }
        let truth = try xmcTruth.map { try XMCDataFormat.jsonl.documents(path: $0, labels: nil).documents } ?? []
        let propensity = try xmcTrain.map { InversePropensity(trainingLabels: try XMCDataFormat.jsonl.documents(path: $0, labels: nil).documents.map(\.labels)) }
        let report = try RetrievalReport(title: title, qrels: judgments, qrelsPath: qrels ?? "", runs: loaded, logs: logs, predictions: labelled,
                                         xmcTruth: Dictionary(truth.map { ($0.id, $0.labels) }, uniquingKeysWith: { first, _ in first }), propensity: propensity)
        for note in report.notes { warn("report: note: " + note) }
        let sink = try OutputSink(path: output)
        try sink.write(ReportPage.html(report))
        try sink.close()
        for run in report.scored {
            warn("report: \(run.name): \(run.evaluation.meansLine)")
        }
        for c in report.comparisons {
            warn(String(format: "report: %@ vs %@: %d wins, %d ties, %d losses; randomization p = %.4f", c.b, c.a, c.wins, c.ties, c.losses, c.randomizationP))
        }
        for scored in report.xmc {
            warn("report: \(scored.name): " + zip(report.xmcMetrics, scored.values).map { "\($0) \(String(format: "%.4f", $1))" }.joined(separator: ", "))
        }
        print("\(output): report of \(report.scored.count) runs, \(report.xmc.count) label predictions and \(report.logs.count) training logs")
    }

    /// NAME=PATH, or PATH named by `defaultName` (also when the whole text is an existing path
    /// that holds a '=').
    static func split(_ text: String, defaultName: (String) -> String) throws -> (name: String, path: String) {
        if let equals = text.firstIndex(of: "="), !FileManager.default.fileExists(atPath: text) {
            let name = String(text[..<equals]), path = String(text[text.index(after: equals)...])
            guard !name.isEmpty, !path.isEmpty else { throw ValidationError(ReportError.badNamedPath(text).description) }
            return (name, path)
        }
        return (defaultName(text), text)
    }
}
