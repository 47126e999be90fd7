import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitIndex
import DensekitSearch
import Foundation

/// `densekit search`: top-k passages for queries, as a table, JSON or a run file.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search an index: queries on the command line (table or --json), or a queries file into a run file.",
        discussion: """
        Queries are encoded with the model the index was built with (recorded in the index); \
        --model may name the same model elsewhere, and any other model is refused. \
        Run formats: msmarco (qid<TAB>pid<TAB>rank) and trec (qid Q0 pid rank score tag).
        """)

    @Option(name: .long, help: "Index folder.")
    var index: String

    @Argument(help: "Query texts.")
    var query: [String] = []

    @Option(name: .long, help: "Queries file: MS MARCO qid<TAB>text (.tsv), BEIR queries.jsonl or {\"id\",\"text\"} lines.")
    var queries: String?

    @Option(name: .short, help: "Results per query.")
    var k = 10

    @Option(name: [.short, .long], help: "Run file to write (with --queries; default standard output).")
    var output = "-"

    @Option(name: .long, help: "Run file format: msmarco or trec.")
    var format: RunFormatOption = .msmarco

    @Option(name: .long, help: "Run tag (trec format).")
    var tag = "densekit"

    @Flag(name: .long, help: "JSON output for command-line queries.")
    var json = false

    @Option(name: .long, help: "The index's model, if it moved (must be the same model).")
    var model: String?

    @Option(name: .long, help: "IVF: inverted lists probed per query.")
    var nprobe: Int?

    @Option(name: .long, help: "HNSW: candidate list size (keep it >= k).")
    var efSearch: Int?

    @Option(name: .long, help: "Threads for encoding and FAISS (default: one per core).")
    var threads: Int?

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    enum RunFormatOption: String, ExpressibleByArgument { case msmarco, trec }

    func validate() throws {
        guard k > 0 else { throw ValidationError("-k must be positive") }
        guard (queries == nil) != query.isEmpty else { throw ValidationError("give query texts or --queries FILE (one of them)") }
    }

    func run() throws {
        let folder = try IndexFolder(path: index)
        let searcher = try Searcher(folder: folder, model: model.map { URL(fileURLWithPath: $0) }, log: { warn($0) })
        let threadCount = threads ?? EncodeOptions.defaultThreads
        FaissIndex.setThreads(threadCount)
        if let nprobe { try searcher.index.setNProbe(nprobe) }
        if let efSearch { try searcher.index.setEfSearch(efSearch) }
        let encode = EncodeOptions(batchSize: 64, threads: threadCount)

        guard let queries else {
            let results = try searcher.search(query, k: k, includeText: true, encode: encode)
            if json { try printJSON(results) } else { printTable(results) }
            return
        }
        let reader = try QueryReader(path: queries)
        var ids: [String] = [], texts: [String] = []
        while let (_, query) = try reader.nextRecord() {
            ids.append(query.id)
            texts.append(query.text)
        }
        let writer = try RunWriter(path: output, format: format == .trec ? .trec : .msmarco, tag: tag)
        let progress = Progress("search", total: texts.count, unit: "queries", quiet: quiet)
        let results = try searcher.search(texts, k: k, encode: encode) { progress.update($0) }
        progress.finish()
        for (qid, hits) in zip(ids, results) {
            try writer.write(queryId: qid, ranking: hits.map { RankedDoc(docId: $0.id, score: Double($0.score)) })
        }
        try writer.close()
    }

    private func printTable(_ results: [[Hit]]) {
        for (text, hits) in zip(query, results) {
            if query.count > 1 { print("query: \(text)") }
            print("rank  score    id          passage")
            for hit in hits {
                let flat = hit.text.replacingOccurrences(of: "\n", with: " ")
                let snippet = flat.count > 100 ? String(flat.prefix(97)) + "..." : flat
                print(String(format: "%4d  %.4f  ", hit.rank, hit.score) + hit.id.padding(toLength: max(10, hit.id.count), withPad: " ", startingAt: 0) + "  " + snippet)
            }
        }
    }

    private func printJSON(_ results: [[Hit]]) throws {
        let object = zip(query, results).map { text, hits in
            ["query": text, "hits": hits.map { ["rank": $0.rank, "id": $0.id, "score": Double($0.score), "text": $0.text] as [String: Any] }] as [String: Any]
        }
        let data = try JSONSerialization.data(withJSONObject: query.count == 1 ? object[0] : object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
