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
            abstract: "Each document's top-k labels: every label embedded once, one GEMM per block of documents.",
            discussion: """
            Writes doc_id<TAB>label<TAB>rank<TAB>score lines (score: cosine of the document's and \
            the label's embeddings), which `densekit eval --xmc` reads. --label-text and \
            --label-max-length must be the ones the model was trained with (train xmc's defaults).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(name: .long, help: "Labels: label<TAB>text lines.")
        var labels: String
        @Option(name: .long, help: "Documents: JSON lines with \"id\" and \"text\" (labels, if present, are not read).")
        var docs: String
        @Option(name: .short, help: "Labels per document.")
        var k = 10
        @Option(name: .long, help: "What the encoder reads for a label: name-and-text, text or name.")
        var labelText = XMCOptions().labelText
        @Option(name: .long, help: "Label truncation in tokens.")
        var labelMaxLength = XMCOptions().labelMaxLength
        @Option(name: .long, help: "Document truncation in tokens.")
        var documentMaxLength = XMCOptions().documentMaxLength
        @Option(name: [.short, .long], help: "Predictions file (default: standard output).")
        var output = "-"
        @Flag(name: .long, help: "No progress on stderr.")
        var quiet = false

        func validate() throws {
            guard k >= 1 else { throw ValidationError("-k must be positive") }
        }

        func run() throws {
            let encoder = try modelOptions.loadEncoder()
            let labelSet = try LabelSet(path: labels)
            let reader = try PassageReader(path: docs, format: .plainJSONL)
            var ids: [String] = [], texts: [String] = []
            while let (_, document) = try reader.nextRecord() {
                ids.append(document.id)
                texts.append(document.text)
            }
            let sink = try OutputSink(path: output)
            var options = modelOptions.encodeOptions
            let predictor = LabelPredictor(encoder: encoder, labels: labelSet, labelText: labelText, labelMaxLength: labelMaxLength, options: options)
            options.maxLength = documentMaxLength
            let progress = Progress("xmc predict", total: texts.count, unit: "docs", quiet: quiet)
            let predictions = predictor.predict(texts, k: k, options: options) { progress.update($0) }
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
