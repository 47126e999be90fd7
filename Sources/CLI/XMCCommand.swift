import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitSearch
import DensekitTraining
import Foundation

/// `densekit xmc ...`: extreme multi-label classification with a trained dual encoder.
struct XMCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xmc",
        abstract: "Extreme multi-label classification: predict labels for documents with a dual encoder.",
        subcommands: [Predict.self])

    /// `densekit xmc predict`.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each document's top-k labels: the labels embedded once into a label index, one search per block of documents.",
            discussion: """
            Writes doc_id<TAB>label<TAB>rank<TAB>score lines (score: cosine of the document's and \
            the label's embeddings), which `densekit eval --xmc` reads. --label-text and \
            --label-max-length must be the ones the model was trained with (train xmc's defaults). \
            Labels go through the label (passage) tower of a two-tower model, documents through \
            the document (query) tower. The label index is an ordinary index folder (--factory, \
            default Flat: exact); with --label-index it is kept and later calls reuse it. \
            With --knn-train, each document's --knn-k nearest training documents vote for their \
            labels with their similarity (the sum over neighbours carrying the label, over k), \
            and the score becomes (1 - w) label score + w vote, w = --knn-weight (1: kNN alone).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var data: XMCLabelOptions
        @Option(name: .long, help: "Documents: JSON lines with \"id\" and \"text\" (labels, if present, are not read; with --format ecr: tst_X.txt).")
        var docs: String
        @Option(name: .short, help: "Labels per document.")
        var k = 10
        @Option(name: .long, help: "Label index folder: built on first use, reused after (default: a temporary one).")
        var labelIndex: String?
        @Option(name: .long, help: "FAISS index factory string of a new label index.")
        var factory = "Flat"
        @Option(name: .long, help: "Training documents (JSON lines with labels) whose nearest neighbours vote for labels.")
        var knnTrain: String?
        @Option(name: .long, help: "Neighbours that vote (with --knn-train).")
        var knnK = 20
        @Option(name: .long, help: "Weight of the vote against the label score: 0 label scores only, 1 votes only.")
        var knnWeight: Float = 0.5
        @Option(name: .long, help: "Index folder of the --knn-train documents: built on first use, reused after (default: a temporary one).")
        var knnIndex: String?
        @Option(name: [.short, .long], help: "Predictions file (default: standard output).")
        var output = "-"
        @Flag(name: .long, help: "No progress on stderr.")
        var quiet = false

        func validate() throws {
            guard k >= 1 else { throw ValidationError("-k must be positive") }
            guard knnK >= 1 else { throw ValidationError("--knn-k must be positive") }
            guard knnWeight.isFinite, (0...1).contains(knnWeight) else { throw ValidationError("--knn-weight must be between 0 and 1") }
        }

        func run() throws {
            let model = try modelOptions.loadDualEncoder()
            let labelSet = try data.labelSet()
            let format = data.format, labelText = data.labelText
            let documents = try format.texts(path: docs)
            let ids = documents.map(\.id), texts = documents.map(\.text)
            let training = try knnTrain.map { try format.documents(path: $0, labels: labelSet).documents }
            let sink = try OutputSink(path: output)
            var temporary: [URL] = []
            defer { for folder in temporary { try? FileManager.default.removeItem(at: folder) } }
            func folder(_ given: String?, _ name: String) -> String {
                if let given { return given }
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("densekit-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
                temporary.append(url)
                return url.path
            }
            let options = modelOptions.encodeOptions
            let labelProgress = Progress("label index", total: labelSet.count, unit: "labels", quiet: quiet)
            let labelSearcher = try TextIndex.open(
                path: folder(labelIndex, "labels"),
                records: (0..<labelSet.count).map { (labelSet.labels[$0], labelSet.text($0, as: labelText), $0 + 1) }, source: data.labels,
                contents: .init(kind: "xmc-labels \(labelText.rawValue)", tower: .passage, maxLength: data.labelMaxLength),
                model: model, factory: factory, encode: options, progress: { labelProgress.update($0) }, log: { warn($0) })
            labelProgress.finish()
            var voting: KNNVoting?
            if let training, let knnTrain {
                let knnProgress = Progress("knn index", total: training.count, unit: "docs", quiet: quiet)
                let documents = try TextIndex.open(
                    path: folder(knnIndex, "knn"), records: training.enumerated().map { ($1.id, $1.text, $0 + 1) }, source: knnTrain,
                    contents: .init(kind: "xmc-documents", tower: .query, maxLength: data.documentMaxLength),
                    model: model, encode: options, progress: { knnProgress.update($0) }, log: { warn($0) })
                knnProgress.finish()
                voting = KNNVoting(documents: documents, labelsOf: Dictionary(uniqueKeysWithValues: training.map { ($0.id, $0.labels) }),
                                   k: knnK, weight: knnWeight)
            }
            let predictor = try LabelPredictor(labels: labelSearcher, voting: voting)
            var documentOptions = options
            documentOptions.maxLength = data.documentMaxLength
            let progress = Progress("xmc predict", total: texts.count, unit: "docs", quiet: quiet)
            let predictions = try predictor.predict(texts, k: k, options: documentOptions) { progress.update($0) }
            progress.finish()
            for (id, ranked) in zip(ids, predictions) {
                for (rank, prediction) in ranked.enumerated() {
                    try sink.write("\(id)\t\(prediction.label)\t\(rank + 1)\t\(prediction.score)\n")
                }
            }
            try sink.close()
        }
    }
}
