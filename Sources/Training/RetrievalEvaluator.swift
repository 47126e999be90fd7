import DensekitCorpus
import DensekitEncoder
import DensekitEvaluation
import DensekitTensor
import Foundation

/// Dev-set retrieval quality of a model during training: encode a collection and the queries,
/// exact inner-product search (`ExactSearch`), MRR@10 and friends against the qrels.
public struct RetrievalEvaluator {
    public let passageIds: [String]
    public let passages: [String]
    public let queryIds: [String]
    public let queries: [String]
    public let qrels: Qrels
    public let metrics: [Metric]
    public var passageMaxLength: Int?
    public var queryMaxLength: Int?

    /// Reads the passages, queries and qrels to evaluate with (any formats the corpus readers know).
    public init(collection: String, queries queriesPath: String, qrels qrelsPath: String, metrics: [Metric]) throws {
        var ids: [String] = [], texts: [String] = []
        let reader = try PassageReader(path: collection)
        while let (_, passage) = try reader.nextRecord() {
            ids.append(passage.id)
            texts.append(passage.text)
        }
        passageIds = ids
        passages = texts
        var qids: [String] = [], qtexts: [String] = []
        let queryReader = try QueryReader(path: queriesPath)
        while let (_, query) = try queryReader.nextRecord() {
            qids.append(query.id)
            qtexts.append(query.text)
        }
        queryIds = qids
        queries = qtexts
        qrels = try QrelsReader.read(path: qrelsPath, queries: Set(qids))
        self.metrics = metrics
    }

    /// The metrics' means for `model` (`Evaluation.meansLine` prints them).
    public func evaluate(_ model: SentenceEncoder, k: Int = 100) throws -> Evaluation {
        try evaluate(DualEncoder(tied: model), k: k)
    }

    /// The metrics' means for queries embedded by `model.query` and passages by `model.passage`.
    public func evaluate(_ model: DualEncoder, k: Int = 100) throws -> Evaluation {
        let p = model.passage.encode(passages, options: EncodeOptions(batchSize: 64, maxLength: passageMaxLength))
        let q = model.query.encode(queries, options: EncodeOptions(batchSize: 64, maxLength: queryMaxLength))
        let index = ExactSearch(dimension: model.passage.dimension)
        p.values.withUnsafeBufferPointer { index.add($0.baseAddress!, count: passageIds.count) }
        let depth = min(k, passageIds.count)
        let (scores, found) = q.values.withUnsafeBufferPointer { index.search($0.baseAddress!, count: queryIds.count, k: depth) }
        var run = Run()
        for (row, qid) in queryIds.enumerated() {
            run.rankings[qid] = (0..<depth).compactMap { r in
                let label = Int(found[row * depth + r])
                return label >= 0 ? RankedDoc(docId: passageIds[label], score: Double(scores[row * depth + r])) : nil
            }
        }
        return Evaluator(qrels: qrels, metrics: metrics).evaluate(run)
    }
}
