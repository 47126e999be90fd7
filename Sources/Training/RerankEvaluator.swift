import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import Foundation

/// Dev-set quality of a cross-encoder during training: rerank the top `depth` of a given
/// first-stage run for the dev queries and score the result (MRR@10 and friends) against the
/// qrels; `baseline` scores the first stage's own top `depth` the same way, so the two read
/// as before and after.
public struct RerankEvaluator {
    public let rankings: [(queryId: String, passageIds: [String])]
    public let queries: [String: String]
    public let passages: [String: String]
    public let qrels: Qrels
    public let metrics: [Metric]
    public let depth: Int
    public var options = EncodeOptions(batchSize: 32)

    /// Reads the run, queries, qrels and the passages the run's tops name.
    /// - Throws: `CorpusError` naming the run's line for a query or passage missing from the inputs.
    public init(run runPath: String, queries queriesPath: String, qrels qrelsPath: String, collection: String, depth: Int, metrics: [Metric]) throws {
        let (run, _) = try RunReader.read(path: runPath)
        rankings = run.rankings.keys.sorted().map { ($0, (run.rankings[$0] ?? []).prefix(depth).map(\.docId)) }
        var queries: [String: String] = [:]
        let reader = try QueryReader(path: queriesPath)
        while let (_, query) = try reader.nextRecord() { queries[query.id] = query.text }
        let needed = Set(rankings.flatMap(\.passageIds))
        var passages: [String: String] = [:]
        let passageReader = try PassageReader(path: collection)
        while let (_, passage) = try passageReader.nextRecord() {
            if needed.contains(passage.id) { passages[passage.id] = passage.text }
        }
        for (qid, ids) in rankings {
            guard queries[qid] != nil else {
                throw CorpusError(path: runPath, line: RunReader.firstLine(ofQuery: qid, docId: nil, in: runPath) ?? 0, reason: "query '\(qid)' is not in \(queriesPath)")
            }
            for pid in ids where passages[pid] == nil {
                throw CorpusError(path: runPath, line: RunReader.firstLine(ofQuery: qid, docId: pid, in: runPath) ?? 0, reason: "passage '\(pid)' is not in \(collection)")
            }
        }
        self.queries = queries
        self.passages = passages
        qrels = try QrelsReader.read(path: qrelsPath, queries: Set(queries.keys))
        self.metrics = metrics
        self.depth = depth
    }

    /// The first stage's top `depth`, scored: the "before" of reranking.
    public func baseline() -> Evaluation {
        score(Run(rankings: Dictionary(uniqueKeysWithValues: rankings.map { ($0.queryId, $0.passageIds.map { RankedDoc(docId: $0) }) })))
    }

    /// The metrics' means after `model` reranks the first stage's top `depth`.
    public func evaluate(_ model: CrossEncoder) throws -> Evaluation {
        let reranked = try model.rerank(rankings: rankings, depth: depth, queries: queries, passages: passages, options: options)
        return score(Run(rankings: Dictionary(uniqueKeysWithValues: reranked.map { ($0.queryId, $0.ranked.map { RankedDoc(docId: $0.id, score: $0.score) }) })))
    }

    private func score(_ run: Run) -> Evaluation {
        Evaluator(qrels: qrels, metrics: metrics).evaluate(run)
    }
}
