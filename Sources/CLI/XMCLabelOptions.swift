import ArgumentParser
import DensekitCorpus
import DensekitTraining

/// How an XMC command reads its labels and documents: declared once, so that `train xmc` and
/// `xmc predict` (which must read labels as the model was trained) offer the same flags.
struct XMCLabelOptions: ParsableArguments {
    @Option(name: .long, help: "Labels: label<TAB>text lines (with --format ecr: Y.txt, one label text per line).")
    var labels: String
    @Option(name: .long, help: "Dataset layout: jsonl, or ecr (the Extreme Classification Repository's raw text).")
    var format = XMCDataFormat.jsonl
    @Option(name: .long, help: "What the encoder reads for a label: name-and-text, text or name.")
    var labelText = XMCOptions().labelText
    @Option(name: .long, help: "Label truncation in tokens.")
    var labelMaxLength = XMCOptions().labelMaxLength
    @Option(name: .long, help: "Document truncation in tokens.")
    var documentMaxLength = XMCOptions().documentMaxLength

    func validate() throws {
        guard documentMaxLength >= 2, labelMaxLength >= 2 else { throw ValidationError("--document-max-length and --label-max-length must be at least 2") }
    }

    /// The label set of --labels, read as --format says.
    func labelSet() throws -> LabelSet { try format.labels(path: labels) }
}
