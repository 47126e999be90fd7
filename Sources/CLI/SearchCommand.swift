import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitIndex
import DensekitSearch
import DensekitStore
import Foundation

/// `densekit search`: top-k passages for queries, as a table, JSON or a run file.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search an index: queries on the command line (table or --json), or a queries file into a run file.",
        discussion: """
        Queries are encoded with the model the index was built with (recorded in the index); \
        --model may name the same model elsewhere, and any other model is refused. With \
        --retriever bm25 the index's BM25 index answers instead (no model is loaded). \
        Run formats: msmarco (qid<TAB>pid<TAB>rank) and trec (qid Q0 pid rank score tag). \
        With --rerank CE, the top --rerank-depth passages are rescored by that cross-encoder \
        (query and passage read together) and the best -k of them are shown or written, with \
        the cross-encoder's scores. Several --index folders of one model (the shards of a \
        sharded build) are searched as one index: the queries are encoded once and each \
        folder's top k merged by score (dense retrieval only).
        """)

    @Option(name: .long, help: "Index folder (repeat it to search several folders of one model as one).")
    var index: [String]

    @Option(name: .long, help: "dense (the index's model and FAISS), bm25 (the index's BM25 index) or hybrid (both, fused).")
    var retriever: Retriever = .dense

    typealias Retriever = RetrieverKind

    @OptionGroup var fusion: FusionOptionGroup

    @Argument(help: "Query texts.")
    var query: [String] = []

    @Option(name: .long, help: "Queries file: MS MARCO qid<TAB>text (.tsv), BEIR queries.jsonl or {\"id\",\"text\"} lines.")
    var queries: String?

    @Option(name: .customLong("query-vectors"), help: "With --queries: their vectors (.npy float32, one row per query in the file's order, as `densekit embed --tsv QUERIES --format npy` writes with the index's model), searched without encoding (dense retriever).")
    var queryVectors: String?

    @Option(name: .short, help: "Results per query.")
    var k = 10



    @OptionGroup var runOutput: RunOutputOptions

    @Flag(name: .long, help: "JSON output for command-line queries.")
    var json = false

    @Option(name: .long, help: "The index's model, if it moved (must be the same model).")
    var model: String?

    @Option(name: .long, help: "IVF: inverted lists probed per query.")
    var nprobe: Int?

    @Option(name: .long, help: "HNSW: candidate list size (keep it >= k).")
    var efSearch: Int?

    @Option(name: .long, help: "Re-score the index's best N x k candidates exactly with the stored vectors and keep the k best (FAISS's k_factor; for PQ indexes, whose compressed scores cap recall).")
    var refine: Int?

    @Option(name: .long, help: "Threads for encoding and FAISS (default: one per core).")
    var threads: Int?

    @Option(name: .long, help: "Queries encoded and searched together (1: one at a time, a lone query's latency).")
    var batchSize = 256

    @Option(name: .long, help: "Cross-encoder folder: rerank the dense results with it.")
    var rerank: String?

    @Option(name: .long, help: "With --rerank: passages retrieved and reranked per query (at least -k).")
    var rerankDepth = 100

    @Flag(name: .long, help: "Map an IVF index's inverted lists from the index file instead of reading them into memory (large indexes).")
    var mmap = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false


    func validate() throws {
        guard k > 0, k <= FaissIndex.maximumK else { throw ValidationError("-k must be between 1 and \(FaissIndex.maximumK), not \(k)") }
        guard (queries == nil) != query.isEmpty else { throw ValidationError("give query texts or --queries FILE (one of them)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be positive") }
        guard !index.isEmpty else { throw ValidationError("--index is required") }
        guard index.count == 1 || retriever == .dense else {
            throw ValidationError("--retriever \(retriever.rawValue) searches one folder (BM25's statistics are per folder): merge the folders with `densekit index merge`, or search them with --retriever dense")
        }
        guard queryVectors == nil || queries != nil && retriever == .dense else {
            throw ValidationError("--query-vectors needs --queries (whose ids and order its rows follow) and the dense retriever")
        }
        if let refine, !(1...ExactRefine.maximumFactor).contains(refine) {
            throw ValidationError("--refine must be between 1 and \(ExactRefine.maximumFactor), not \(refine)")
        }
        guard refine == nil || retriever == .dense else { throw ValidationError("--refine re-scores dense retrieval; it needs --retriever dense") }
        guard rerankDepth > 0, rerankDepth <= FaissIndex.maximumK else { throw ValidationError("--rerank-depth must be between 1 and \(FaissIndex.maximumK), not \(rerankDepth)") }
    }

    func run() throws {
        let folders = try index.map { try IndexFolder(path: $0, access: .readRepairingIfWritable, reads: .random) }
        let folder = folders[0]
        let threadCount = threads ?? EncodeOptions.defaultThreads
        let encode = EncodeOptions(batchSize: 64, threads: threadCount)
        /// The first stage: `k` hits per query from the chosen retriever.
        let retrieve: (_ queries: [String], _ k: Int, _ includeText: Bool, _ progress: (Int) -> Void) throws -> [[Hit]]
        let knobs = SearchKnobs(nprobe: nprobe, efSearch: efSearch, refine: refine)
        /// The index's model and FAISS index.
        func denseSearcher() throws -> Searcher {
            let searcher = try Searcher(folders: folders, model: model.map { URL(fileURLWithPath: $0) }, mapped: mmap, log: { warn($0) })
            searcher.knobWarnings(knobs).forEach(warn)
            FaissIndex.setThreads(threadCount)
            return searcher
        }
        switch retriever {
        case .dense:
            let searcher = try denseSearcher()
            if let queryVectors {
                let vectors = try NpyMatrixFile(path: queryVectors)
                retrieve = { texts, k, includeText, progress in
                    guard vectors.rows == texts.count else {
                        throw ValidationErrorMessage("\(queryVectors) has \(vectors.rows) rows, but \(queries ?? "") has \(texts.count) queries (one row per query, in the file's order)")
                    }
                    return try searcher.search(vectors: vectors, k: k, includeText: includeText, knobs: knobs, chunk: batchSize, progress: progress)
                }
            } else {
                retrieve = { try searcher.search($0, k: $1, includeText: $2, encode: encode, knobs: knobs, chunk: batchSize, progress: $3) }
            }
        case .bm25:
            let searcher = try LexicalSearcher(folder: folder, log: { warn($0) })
            retrieve = { try searcher.search($0, k: $1, includeText: $2, threads: threadCount, progress: $3, log: { warn($0) }) }
        case .hybrid:
            let hybrid = HybridSearcher(dense: try denseSearcher(), lexical: try LexicalSearcher(folder: folder, log: { _ in }),
                                        fusion: fusion.fusion(alphaDefault: 0.5), encode: encode, threads: threadCount, knobs: knobs)
            retrieve = { try hybrid.search($0, k: $1, includeText: $2, progress: $3, log: { warn($0) }) }
        }
        let reranker = try rerank.map { Reranker(model: try ModelFolder(URL(fileURLWithPath: $0)).loadCrossEncoder(), depth: max(k, rerankDepth)) }
        let depth = reranker?.depth ?? k
        /// The first stage's hits, reranked when asked, cut to k.
        func finish(_ hits: [[Hit]], _ texts: [String]) -> [[Hit]] {
            guard let reranker else { return hits }
            return reranker.rerank(hits, queries: texts, options: EncodeOptions(batchSize: 32, threads: threadCount)).map { Array($0.prefix(k)) }
        }

        guard let queries else {
            let results = finish(try retrieve(query, depth, true, { _ in }), query)
            if json { try printJSON(results) } else { printTable(results) }
            return
        }
        let reader = try QueryReader(path: queries)
        var ids: [String] = [], texts: [String] = []
        while let (_, query) = try reader.nextRecord() {
            ids.append(query.id)
            texts.append(query.text)
        }
        let writer = try runOutput.writer(defaultFormat: .msmarco, defaultTag: "densekit")
        let progress = Progress("search", total: texts.count, unit: "queries", quiet: quiet)
        var results = try retrieve(texts, depth, reranker != nil) { progress.update($0) }
        progress.finish()
        if reranker != nil {
            if !quiet { warn("search: reranking the top \(depth) of \(texts.count) queries with \(rerank ?? "")") }
            results = finish(results, texts)
        }
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
extension RetrieverKind: ExpressibleByArgument {}
