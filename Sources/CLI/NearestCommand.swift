import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitTensor
import Foundation

/// `densekit nearest`: brute-force nearest texts of a file to a query, without an index.
struct Nearest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed a file of texts and print the ones nearest to each query (exact, no index).",
        discussion: "Scores are dot products of the model's embeddings (cosine for normalized models).")

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Texts, one per line, or id<TAB>text with --tsv.")
    var input: String

    @Option(name: [.short, .long], help: "A query; repeat for several.")
    var query: [String]

    @Option(name: .short, help: "How many results per query.")
    var k = 5

    @Flag(name: .long, help: "Input lines are id<TAB>text.")
    var tsv = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard !query.isEmpty else { throw ValidationError("give at least one --query") }
        guard k > 0 else { throw ValidationError("-k must be positive") }
    }

    func run() throws {
        let encoder = try modelOptions.loadEncoder()
        let (ids, texts) = try TextFile.read(path: input, tsv: tsv)
        let progress = Progress("embed", total: texts.count, unit: "texts", quiet: quiet)
        let passages = encoder.encode(texts, options: modelOptions.encodeOptions) { progress.update($0) }
        progress.finish()
        let queries = encoder.encode(query, options: modelOptions.encodeOptions)

        // scores[q, p] = queries[q] . passages[p], one GEMM.
        var scores = [Float](repeating: 0, count: query.count * passages.count)
        queries.values.withUnsafeBufferPointer { q in
            passages.values.withUnsafeBufferPointer { p in
                scores.withUnsafeMutableBufferPointer { s in
                    guard let qa = q.baseAddress, let pa = p.baseAddress, let sa = s.baseAddress else { return }
                    BLAS.gemm(.none, .transpose, m: query.count, n: passages.count, k: encoder.dimension,
                              a: qa, lda: encoder.dimension, b: pa, ldb: encoder.dimension, c: sa, ldc: passages.count)
                }
            }
        }
        for (qi, text) in query.enumerated() {
            print("query: \(text)")
            let row = scores[(qi * passages.count)..<((qi + 1) * passages.count)]
            let best = row.indices.sorted { row[$0] > row[$1] }.prefix(k)
            for (rank, index) in best.enumerated() {
                let p = index - qi * passages.count
                let snippet = texts[p].count > 90 ? String(texts[p].prefix(87)) + "..." : texts[p]
                print(String(format: "%3d  %.4f  %@  %@", rank + 1, row[index], ids[p], snippet))
            }
        }
    }
}
