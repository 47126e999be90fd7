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
        analyzer = try LexicalAnalyzer(settings: settings)
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

    /// BM25 scores of `query` for the passages `ids` (internal ids); ids the query's terms do
    /// not occur in are absent.
    public func scores(_ query: String, ids: [Int]) throws -> [Int: Float] {
        var buffer = [Float](repeating: 0, count: lengthNorms.count)
        let all = try search(query, k: Int.max, scores: &buffer)
        let wanted = Set(ids)
        return Dictionary(all.filter { wanted.contains($0.id) }.map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
    }

    /// One query, with a zeroed score buffer of `lengthNorms.count` that is zeroed again after.
    private func search(_ query: String, k: Int, scores: inout [Float]) throws -> [(id: Int, score: Float)] {
        let terms = analyzer.terms(query)
        guard !terms.isEmpty, documents > 0 else { return [] }
        var touched: [Int] = []
        let n = Float(documents)
        try scores.withUnsafeMutableBufferPointer { scores in
            var idf: Float = 0
            try store.withPostings(terms, begin: { _, df in
                idf = log(1 + (n - Float(df) + 0.5) / (Float(df) + 0.5))
            }) { _, page in
                for i in 0..<(page.count / LexicalPosting.size) {
                    let (id, frequency) = EmbeddingStore.posting(in: page, at: i)
                    guard id < scores.count else { continue }
                    let tf = Float(frequency)
                    if scores[id] == 0 { touched.append(id) }
                    scores[id] += idf * tf / (tf + lengthNorms[id])
                }
            }
        }
        let best = Self.best(k, of: touched, scores: scores)
        for id in touched { scores[id] = 0 }
        return best
    }

    /// The `k` highest-scoring ids of `candidates`, best first (equal scores: lower id first),
    /// through a bounded min-heap: O(n log k).
    static func best(_ k: Int, of candidates: [Int], scores: [Float]) -> [(id: Int, score: Float)] {
        // "a ranks below b": lower score, or equal score and higher id.
        func below(_ a: (id: Int, score: Float), _ b: (id: Int, score: Float)) -> Bool {
            a.score != b.score ? a.score < b.score : a.id > b.id
        }
        var heap: [(id: Int, score: Float)] = []
        heap.reserveCapacity(min(k, candidates.count))
        for id in candidates {
            let item = (id: id, score: scores[id])
            if heap.count < k {
                heap.append(item)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard below(heap[child], heap[parent]) else { break }
                    heap.swapAt(child, parent)
                    child = parent
                }
            } else if let root = heap.first, below(root, item) {
                heap[0] = item
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var lowest = parent
                    if left < heap.count, below(heap[left], heap[lowest]) { lowest = left }
                    if right < heap.count, below(heap[right], heap[lowest]) { lowest = right }
                    guard lowest != parent else { break }
                    heap.swapAt(parent, lowest)
                    parent = lowest
                }
            }
        }
        return heap.sorted { below($1, $0) }
    }
}

extension LexicalAnalyzer {
    /// The analyzer a lexical index's settings describe.
    /// - Throws: `IndexError.invalid` for a stemmer this densekit does not know (an index
    ///   written by a newer one).
    public init(settings: LexicalSettings) throws(IndexError) {
        guard let stemmer = StemmerKind(rawValue: settings.stemmer) else {
            throw .invalid("the BM25 index uses the stemmer '\(settings.stemmer)', which this densekit does not have (it has \(StemmerKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(removesStopWords: settings.stopWords, stemmer: stemmer)
    }

}
