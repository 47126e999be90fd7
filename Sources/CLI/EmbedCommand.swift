import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitStore
import Foundation

/// `densekit embed`: texts in, embeddings out.
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed texts, one per line, into JSON lines or a float32 .npy matrix.",
        discussion: """
        Input: one text per line (an empty line is embedded as an empty text), or with --tsv \
        id<TAB>text. Output: one JSON object per input line, {"id": ..., "embedding": [...]} \
        (id only with --tsv), or --format npy: a float32 [count, dimension] matrix in input order. \
        Texts longer than --max-length tokens are truncated, as sentence-transformers does.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Input file; '-' or nothing reads standard input.")
    var input = "-"

    @Flag(name: .long, help: "Input lines are id<TAB>text.")
    var tsv = false

    @Option(name: .long, help: "jsonl or npy.")
    var format: OutputFormat = .jsonl

    @Option(name: [.short, .long], help: "Output file ('-' = standard output; npy needs a file).")
    var output = "-"

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    enum OutputFormat: String, ExpressibleByArgument { case jsonl, npy }

    func validate() throws {
        if format == .npy && output == "-" { throw ValidationError("--format npy needs --output FILE") }
    }

    func run() throws {
        let encoder = try modelOptions.loadEncoder()
        // An unwritable .npy output is found before the encoding, not after it.
        if format == .npy { try OutputSink(path: output).close() }
        let (ids, texts) = try TextFile.read(path: input, tsv: tsv)
        let progress = Progress("embed", total: texts.count, unit: "texts", quiet: quiet)
        let embeddings = encoder.encode(texts, options: modelOptions.encodeOptions) { progress.update($0) }
        progress.finish()
        switch format {
        case .jsonl: try writeJSONLines(embeddings, ids: tsv ? ids : nil)
        case .npy: try NpyMatrixFile.write(embeddings.values, rows: embeddings.count, columns: embeddings.dimension, to: output)
        }
    }

    private func writeJSONLines(_ embeddings: Embeddings, ids: [String]?) throws {
        let sink = try OutputSink(path: output)
        var line = ""
        for row in 0..<embeddings.count {
            line.removeAll(keepingCapacity: true)
            line += "{"
            if let ids { line += "\"id\":" + JSONText.quote(ids[row]) + "," }
            line += "\"embedding\":["
            for (j, value) in embeddings[row].enumerated() {
                if j > 0 { line += "," }
                line += value.description
            }
            line += "]}\n"
            try sink.write(line)
        }
        try sink.close()
    }
}
