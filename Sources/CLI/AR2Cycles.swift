import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitIndex
import DensekitSearch
import DensekitTraining
import Foundation

/// Dev-set quality of an AR2 run's two models, read from a cycle's index (the collection as the
/// retriever encoded it, so nothing is encoded twice): the retriever's ranking of the dev
/// queries, and the ranker reranking its top `rerankDepth`.
struct AR2Evaluation {
    let queries: [(id: String, text: String)]
    let qrels: Qrels
    let rerankDepth: Int
    let threads: Int
    /// The retriever's metrics: the first-stage figures issue 13 asks for.
    static let retrieverMetrics: [Metric] = [.mrr(cutoff: 10), .recall(cutoff: 10), .recall(cutoff: 50), .recall(cutoff: 100)]
    static let rankerMetrics: [Metric] = [.mrr(cutoff: 10), .recall(cutoff: 10)]

    /// Reads the dev queries that the qrels judge.
    init(queries path: String, qrels qrelsPath: String, rerankDepth: Int, threads: Int) throws {
        var read: [(id: String, text: String)] = []
        let reader = try QueryReader(path: path)
        while let (_, query) = try reader.nextRecord() { read.append((query.id, query.text)) }
        let judged = try QrelsReader.read(path: qrelsPath, queries: Set(read.map(\.id)))
        qrels = judged
        queries = read.filter { judged[$0.id] != nil }
        self.rerankDepth = rerankDepth
        self.threads = threads
    }

    /// What one evaluation found, kept beside the cycles so a resumed run can print it again.
    struct Result: Codable, Equatable {
        var retriever: [String: Double]
        var ranker: [String: Double]

        var line: String {
            func format(_ values: [String: Double], _ metrics: [Metric]) -> String {
                metrics.compactMap { m in values[m.description].map { "\(m) \(String(format: "%.4f", $0))" } }.joined(separator: ", ")
            }
            return "retriever " + format(retriever, AR2Evaluation.retrieverMetrics)
                + "; ranker on its top \(ranker["depth"].map { String(Int($0)) } ?? "?") " + format(ranker, AR2Evaluation.rankerMetrics)
        }
    }

    /// Searches `index` (built with the retriever being evaluated, which it records) and reranks.
    func evaluate(index: URL, ranker: CrossEncoder) throws -> Result {
        let searcher = try Searcher(folder: try IndexFolder(path: index.path, access: .readOnly, reads: .random), log: { _ in })
        let depth = max(100, rerankDepth)
        let encode = EncodeOptions(batchSize: 64, threads: threads)
        let hits = try searcher.search(queries.map(\.text), k: depth, includeText: true, encode: encode)
        func means(_ hits: [[Hit]], _ metrics: [Metric]) -> [String: Double] {
            var run = Run()
            for (query, ranked) in zip(queries, hits) { run.rankings[query.id] = ranked.map { RankedDoc(docId: $0.id, score: Double($0.score)) } }
            let evaluation = Evaluator(qrels: qrels, metrics: metrics).evaluate(run)
            return Dictionary(uniqueKeysWithValues: zip(metrics.map(\.description), evaluation.means))
        }
        let reranked = Reranker(model: ranker, depth: rerankDepth).rerank(hits, queries: queries.map(\.text), options: EncodeOptions(batchSize: 32, threads: threads))
        var rankerMeans = means(reranked, Self.rankerMetrics)
        rankerMeans["depth"] = Double(rerankDepth)
        return Result(retriever: means(hits, Self.retrieverMetrics), ranker: rankerMeans)
    }
}

/// The candidates of each AR2 cycle (a `NegativeRefresh` per cycle start), with what a cycle's
/// end needs besides: the dev evaluation of both models from the fresh index, and removing old
/// cycles' folders (`--keep-cycles`).
///
/// Cycle c's retrieval (at `AR2Options.cycleStart(c)`) uses the retriever as cycle c - 1 left
/// it, and the ranker is as cycle c - 1 left it too: evaluating then scores "after cycle
/// c - 1" (cycle 0's: the starting models) at no extra encoding. The run's end has no next
/// cycle; `evaluateFinal` encodes the collection once more for it. Results are written to
/// `DIR/step-N.evaluation.json`, outside the cycle folders that `--keep-cycles` removes.
final class AR2Cycles: NegativeSource {
    let refresh: NegativeRefresh
    let options: AR2Options
    let evaluation: AR2Evaluation?
    /// Cycle folders kept, the current one included (at least 1).
    let keepCycles: Int
    /// The ranker as it is now (the task's).
    var ranker: () -> CrossEncoder = { preconditionFailure("AR2Cycles.ranker not set") }
    /// Records an evaluation (after `step` steps) in the run's training log.
    var record: (_ step: Int, _ result: AR2Evaluation.Result) throws -> Void = { _, _ in }
    let log: (String) -> Void

    init(refresh: NegativeRefresh, options: AR2Options, evaluation: AR2Evaluation?, keepCycles: Int, log: @escaping (String) -> Void) {
        self.refresh = refresh
        self.options = options
        self.evaluation = evaluation
        self.keepCycles = keepCycles
        self.log = log
    }

    func refresh(step: Int, saveModel: (URL) throws -> Void) throws -> String {
        let negatives = try refresh.refresh(step: step, saveModel: saveModel)
        try evaluate(step: step, index: refresh.indexFolder(step: step))
        // The checkpoint at `step` exists (the loop wrote it before this step), so no resume
        // needs an earlier cycle now.
        try refresh.removeRefreshes(before: step, keeping: keepCycles - 1)
        return negatives
    }

    func negatives(completedAt step: Int) throws -> String { try refresh.negatives(completedAt: step) }

    /// The last evaluation, of the models a run ended with at `step` (a cycle's end): the
    /// collection encoded with the final retriever into the folder a next cycle would use.
    func evaluateFinal(step: Int, saveRetriever: (URL) throws -> Void) throws {
        guard evaluation != nil else { return }
        try evaluate(step: step, index: try refresh.encodeOnly(step: step, saveModel: saveRetriever))
        try refresh.removeRefreshes(before: step, keeping: keepCycles - 1)
    }

    private func evaluate(step: Int, index: URL) throws {
        guard let evaluation else { return }
        let file = refresh.directory.appendingPathComponent(String(format: "step-%06d.evaluation.json", step))
        let cycle = (step - options.rankerWarmupSteps) / max(1, options.cycleLength)
        let label = step == 0 ? "before training" : "after cycle \(cycle)/\(options.cycles)"
        if let saved = try? JSONDecoder().decode(AR2Evaluation.Result.self, from: Data(contentsOf: file)) {
            log("\(label) (step \(step), evaluated before): \(saved.line)")
            return
        }
        let result = try evaluation.evaluate(index: index, ranker: ranker())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: file, options: .atomic)
        try record(step, result)
        log("\(label) (step \(step)): \(result.line)")
    }
}
