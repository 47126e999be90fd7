import ArgumentParser
import DensekitCorpus
import DensekitEvaluation
import Foundation

/// `densekit eval --xmc`: label predictions against the documents' true labels.
struct XMCEvalOptions: ParsableArguments {
    @Flag(name: .long, help: "Evaluate XMC label predictions (--truth, --predictions, --train) instead of a run.")
    var xmc = false
    @Option(name: .long, help: "Documents with their true labels: JSON lines {\"id\", \"text\", \"labels\"}.")
    var truth: String?
    @Option(name: .long, help: "Predictions: doc_id<TAB>label<TAB>rank<TAB>score lines.")
    var predictions: String?
    @Option(name: .long, help: "Training documents (JSON lines with labels), for the label propensities of PSP@k and PSnDCG@k.")
    var train: String?
    @Option(name: .customLong("xmc-format"), help: "Layout of --truth and --train: jsonl, or ecr (tst_X.txt / trn_X.txt with their *_X_Y.txt label matrices).")
    var format = XMCDataFormat.jsonl
    @Option(name: .long, help: "Propensity A (pyxclib's default 0.55; 0.5 Wikipedia, 0.6 Amazon).")
    var propensityA = 0.55
    @Option(name: .long, help: "Propensity B (pyxclib's default 1.5; 0.4 Wikipedia, 2.6 Amazon).")
    var propensityB = 1.5

    static let defaultMetrics = "P@1,P@3,P@5,nDCG@5,PSP@1,PSP@5,R@10"

    func check(metrics: String?) throws {
        guard truth != nil, predictions != nil else { throw ValidationError("--xmc needs --truth and --predictions") }
        let list: [XMCMetric]
        do { list = try XMCMetric.parseList(metrics ?? Self.defaultMetrics) } catch { throw ValidationError(error.description) }
        if let metric = list.first(where: \.needsPropensity), train == nil {
            throw ValidationError("\(metric) needs --train (the training labels give each label's propensity)")
        }
        guard propensityA.isFinite, propensityA > 0, propensityB.isFinite, propensityB >= 0 else {
            throw ValidationError("--propensity-a must be positive and --propensity-b 0 or more")
        }
    }

    func run(metrics: String?, json: Bool) throws {
        guard let truth, let predictions else { throw ValidationError("--xmc needs --truth and --predictions") }
        let list: [XMCMetric]
        do { list = try XMCMetric.parseList(metrics ?? Self.defaultMetrics) } catch { throw ValidationError(error.description) }
        let documents = try format.documents(path: truth, labels: nil).documents
        let propensity = try train.map { path in
            InversePropensity(trainingLabels: try format.documents(path: path, labels: nil).documents.map(\.labels),
                              a: propensityA, b: propensityB)
        }
        let evaluator = XMCEvaluator(truth: Dictionary(uniqueKeysWithValues: documents.map { ($0.id, $0.labels) }), propensity: propensity)
        let report = try evaluator.evaluate(try XMCPredictionsReader.read(path: predictions), metrics: list)
        var notes: [String] = []
        if report.documentsWithoutPredictions > 0 { notes.append("\(report.documentsWithoutPredictions) of \(documents.count) documents have no prediction and score 0") }
        if report.unknownDocuments > 0 { notes.append("\(report.unknownDocuments) predicted documents are not in \(truth) and are ignored") }
        FileHandle.standardError.write(Data(notes.map { "eval: \($0)\n" }.joined().utf8))
        let values = list.map { report.metrics[$0] ?? 0 }
        let sink = try OutputSink(path: "-")
        if json {
            let object = zip(list, values).map { JSONText.quote($0.description) + ": " + String($1) }.joined(separator: ", ")
            try sink.write("{\n  \"documents\": \(documents.count),\n  \"documents_without_predictions\": \(report.documentsWithoutPredictions),\n  \"metrics\": {\(object)}\n}\n")
        } else {
            let width = max(6, list.map(\.description.count).max() ?? 0)
            var out = "metric".padding(toLength: width, withPad: " ", startingAt: 0) + "   value  documents\n"
            for (metric, value) in zip(list, values) {
                out += metric.description.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %6.4f  %9d\n", value, documents.count)
            }
            try sink.write(out)
        }
        try sink.close()
    }
}
