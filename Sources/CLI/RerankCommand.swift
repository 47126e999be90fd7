import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitIndex
import DensekitSearch
import Foundation

/// `densekit rerank`: rescore a first-stage run with a cross-encoder.
struct Rerank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rerank the top passages of a run file with a cross-encoder.",
        discussion: """
        For each query of --run (MS MARCO qid<TAB>pid<TAB>rank or TREC, detected), the top \
        --depth passages are scored with the query by the cross-encoder --model and written \
        best first to --output; passages below --depth are left out. TREC scores are the \
        model's outputs after its activation (what sentence-transformers' CrossEncoder.predict \
        returns: a sigmoid probability by default). Passage texts come from --collection or from \
        an index folder's store (--index); query texts from --queries. A query or passage the \
        run names but the inputs lack is an error naming the run file and line.
        """)

    @Option(name: .long, help: "Cross-encoder folder (sentence-transformers CrossEncoder or Hugging Face BertForSequenceClassification).")
    var model: String
    @Option(name: .customLong("run"), help: "First-stage run file (MS MARCO or TREC).")
    var runPath: String
    @Option(name: .long, help: "Queries file: MS MARCO qid<TAB>text (.tsv), BEIR queries.jsonl or {\"id\",\"text\"} lines.")
    var queries: String
    @Option(name: .long, help: "Passages: MS MARCO collection.tsv, BEIR corpus.jsonl or JSONL.")
    var collection: String?
    @Option(name: .long, help: "Index folder whose store holds the passages (instead of --collection).")
    var index: String?
    @Option(name: .long, help: "Passages reranked per query.")
    var depth = 100
    @OptionGroup var runOutput: RunOutputOptions
    @Option(name: .long, help: "Pairs per forward pass.")
    var batchSize = 32
    @Option(name: .long, help: "Truncate each (query, passage) pair to this many tokens (default: the model's).")
    var maxLength: Int?
    @Option(name: .long, help: "Worker threads (default: $DENSEKIT_THREADS, else one per core).")
    var threads: Int?
    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard (collection == nil) != (index == nil) else { throw ValidationError("give --collection or --index (one of them)") }
        guard depth > 0 else { throw ValidationError("--depth must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let maxLength, maxLength < 3 { throw ValidationError("--max-length must be at least 3") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        let model = try ModelFolder(URL(fileURLWithPath: self.model)).loadCrossEncoder()
        let reranker = Reranker(model: model, depth: depth)
        let (firstStage, _) = try RunReader.read(path: runPath)
        let rankings = firstStage.rankings.keys.sorted().map { ($0, (firstStage.rankings[$0] ?? []).map(\.docId)) }
        var queryTexts: [String: String] = [:]
        let reader = try QueryReader(path: queries)
        while let (_, query) = try reader.nextRecord() { queryTexts[query.id] = query.text }
        let needed = reranker.passageIds(of: rankings)
        let passages = try collection.map { try Reranker.passages(needed, collection: $0) }
            ?? Reranker.passages(needed, store: try IndexFolder(path: index ?? "", access: .readOnly, reads: .random).store)
        // Opened before the scoring: an unwritable output is found before the work, not after it.
        let writer = try runOutput.writer(defaultFormat: .msmarco, defaultTag: "densekit-rerank")
        let pairCount = rankings.reduce(0) { $0 + min($1.1.count, depth) }
        let progress = Progress("rerank", total: pairCount, unit: "pairs", quiet: quiet)
        let reranked: [(queryId: String, ranked: [(id: String, score: Double)])]
        do {
            reranked = try reranker.rerank(rankings, queries: queryTexts, passages: passages,
                                           options: EncodeOptions(batchSize: batchSize, threads: threads, maxLength: maxLength)) { progress.update($0) }
        } catch {
            switch error {
            case .query(let qid):
                throw CorpusError(path: runPath, line: RunReader.firstLine(ofQuery: qid, docId: nil, in: runPath) ?? 0, reason: "query '\(qid)' is not in \(queries)")
            case .passage(let pid, let qid):
                throw CorpusError(path: runPath, line: RunReader.firstLine(ofQuery: qid, docId: pid, in: runPath) ?? 0,
                                  reason: "passage '\(pid)' is not in \(collection ?? index ?? "the passages")")
            }
        }
        progress.finish()
        for (qid, ranked) in reranked {
            try writer.write(queryId: qid, ranking: ranked.map { RankedDoc(docId: $0.id, score: $0.score) })
        }
        try writer.close()
    }
}
