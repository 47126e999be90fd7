import DensekitStore
import DensekitTokenizer
import Foundation

/// BM25 over the lexical index an index folder's store keeps (postings committed with the
/// vectors, see `EmbeddingStore.append`), scored as Lucene (and bm25s's "lucene" method) do:
///
///     score(q, d) = sum over query terms t of  idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
///     idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
///
/// with N passages, df(t) the passages holding t, |d| the passage's length in terms and avgdl
/// the mean length. A term repeated in the query counts each time (Lucene's and bm25s's sum
/// over query tokens). Scores are Float, as both reference tools keep them.
public final class LexicalIndex: @unchecked Sendable {
    public let store: EmbeddingStore
    public let settings: LexicalSettings
    public let analyzer: LexicalAnalyzer
    /// Passages in the index.
    public let documents: Int
    /// `k1 * (1 - b + b * |d| / avgdl)` per internal id.
    private let lengthNorms: [Float]

    /// The lexical index of `folder`, whose manifest must record one.
    public init(folder: IndexFolder) throws {
        let manifest = try folder.manifest()
        guard let settings = manifest.lexical else {
            throw IndexError.invalid("\(folder.path) has no BM25 index (built with --no-bm25, or before densekit kept one); add it with `densekit index rebuild --index \(folder.path) --bm25`")
        }
        store = folder.store
        self.settings = settings
        analyzer = LexicalAnalyzer(settings: settings)
        let count = try store.count()
        let statistics = try store.lexicalStatistics() ?? LexicalStatistics()
        documents = statistics.documents
        let average = statistics.documents > 0 ? Double(statistics.totalLength) / Double(statistics.documents) : 1
        let (k1, b) = (settings.k1, settings.b)
        lengthNorms = try store.lexicalLengths(count: count).map { Float(k1 * (1 - b + b * Double($0) / max(average, 1e-9))) }
    }

    /// The `k` best passages (internal id, score) for each query, best first (equal scores:
    /// lower id first). A query without an indexable term gets an empty list.
    public func search(_ queries: [String], k: Int, threads: Int = 1) throws -> [[(id: Int, score: Float)]] {
        let workers = max(1, min(threads, queries.count))
        // Each worker writes only the slots of its own queries.
        let results = ResultSlots(count: queries.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var scores = [Float](repeating: 0, count: lengthNorms.count)
            var index = worker
            while index < queries.count {
                results.set(index, Result { try search(queries[index], k: k, scores: &scores) })
                index += workers
            }
        }
        return try results.values.map { try $0.get() }
    }

    /// Per-query results written by concurrent workers, each to its own slots.
    private final class ResultSlots: @unchecked Sendable {
        private(set) var values: [Result<[(id: Int, score: Float)], any Error>]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: .success([]), count: count) }
        func set(_ index: Int, _ value: Result<[(id: Int, score: Float)], any Error>) { lock.withLock { values[index] = value } }
    }

    /// One query, with a zeroed score buffer of `lengthNorms.count` that is zeroed again after.
    private func search(_ query: String, k: Int, scores: inout [Float]) throws -> [(id: Int, score: Float)] {
        let terms = analyzer.terms(query)
        guard !terms.isEmpty, documents > 0 else { return [] }
        var touched: [Int] = []
        let n = Float(documents)
        try scores.withUnsafeMutableBufferPointer { scores in
            var postings: [(id: Int, frequency: Int)] = []
            try store.withPostings(terms) { _, page in
                // Pages of one term arrive in order; collect them, then score with the term's df.
                for i in 0..<(page.count / 8) { postings.append(EmbeddingStore.posting(in: page, at: i)) }
            } termDone: { _ in
                guard !postings.isEmpty else { return }
                let df = Float(postings.count)
                let idf = log(1 + (n - df + 0.5) / (df + 0.5))
                for (id, frequency) in postings where id < scores.count {
                    let tf = Float(frequency)
                    if scores[id] == 0 { touched.append(id) }
                    scores[id] += idf * tf / (tf + lengthNorms[id])
                }
                postings.removeAll(keepingCapacity: true)
            }
        }
        var hits = touched.map { (id: $0, score: scores[$0]) }
        for id in touched { scores[id] = 0 }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return Array(hits.prefix(k))
    }
}

extension LexicalAnalyzer {
    /// The analyzer a lexical index's settings describe.
    public init(settings: LexicalSettings) {
        self.init(removesStopWords: settings.stopWords)
    }

    /// Term frequencies of `text`, the form the store indexes.
    public func frequencies(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for term in terms(text) { counts[term, default: 0] += 1 }
        return counts
    }
}
