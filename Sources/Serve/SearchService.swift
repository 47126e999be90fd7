import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitStore
import Foundation

/// What `densekit serve` answers, apart from HTTP: JSON request bodies in, JSON bodies out, every
/// refusal a `ServeError` naming the problem. The index folder is opened read-only and nothing a
/// request sends is written anywhere.
///
/// Dense searches go through one `QueryBatcher` (concurrent requests share encoder batches);
/// BM25 and hybrid searches, embeddings and reranking run on queues of their own, one call at a
/// time each, off the server's event loops.
public final class SearchService: @unchecked Sendable {
    /// Request limits (each a 400 when exceeded).
    public struct Limits: Sendable {
        /// Largest `k` (and rerank depth).
        public var maxK = 10_000
        /// Most queries in one search, texts in one embed, passages in one rerank.
        public var maxItems = 1_000
        /// Most (query, passage) pairs one request may have the cross-encoder score: about 25
        /// seconds of a 2-core CPU at 2,000 (MiniLM-L6, 80 pairs/s).
        public var maxRerankPairs = 2_000
        /// Longest a request's work may wait behind others' before it starts; past it, 503.
        public var queueTimeout: Duration = .seconds(60)
        public init() {}

        /// The largest rerank depth (and k) and query count of a reranking search, as its
        /// OpenAPI document states them: depth at most 100, as many queries as the pairs allow.
        public var rerankBounds: (queries: Int, depth: Int) {
            let depth = max(1, min(100, maxRerankPairs))
            return (max(1, maxRerankPairs / depth), depth)
        }
    }

    public let folder: IndexFolder
    public let batcher: QueryBatcher
    public let lexical: LexicalSearcher?
    public let reranker: CrossEncoder?
    public let limits: Limits
    /// Passages reranked per query when a search asks for reranking without a depth.
    public let rerankDepth: Int
    private let encode: EncodeOptions
    private let lexicalQueue = DispatchQueue(label: "densekit.serve.lexical")
    private let rerankQueue = DispatchQueue(label: "densekit.serve.rerank")
    private let embedQueue = DispatchQueue(label: "densekit.serve.embed")

    /// Opens `index` read-only (and its model), and the cross-encoder at `rerank` if given.
    public init(index: String, rerank: String?, threads: Int, maxWait: Duration = .zero, busyWait: Duration = .zero, rerankDepth: Int = 100,
                limits: Limits = Limits(), log: (String) -> Void) throws {
        folder = try IndexFolder(path: index, access: .readOnly, reads: .random)
        encode = EncodeOptions(batchSize: 64, threads: threads)
        let searcher = try Searcher(folder: folder, log: log)
        FaissIndex.setThreads(threads)
        FaissIndex.setBLASThreshold(2)
        batcher = QueryBatcher(searcher: searcher, encode: encode, maxWait: maxWait, busyWait: busyWait, timeout: limits.queueTimeout)
        lexical = try folder.manifest().lexical == nil ? nil : LexicalSearcher(folder: folder, log: log)
        reranker = try rerank.map { try ModelFolder(URL(fileURLWithPath: $0)).loadCrossEncoder() }
        self.limits = limits
        self.rerankDepth = rerankDepth
    }

    /// The retrievers this index can serve.
    public var retrievers: [RetrieverKind] { lexical == nil ? [.dense] : [.dense, .bm25, .hybrid] }

    /// What this server answers, for its OpenAPI document.
    public var capabilities: OpenAPI.Capabilities {
        let factory = batcher.searcher.index.factory
        return OpenAPI.Capabilities(retrievers: retrievers.map(\.rawValue), nprobe: factory.contains("IVF"), efSearch: factory.contains("HNSW"),
                                    rerank: reranker != nil, maxQueries: limits.maxItems, rerankBounds: limits.rerankBounds)
    }

    /// `GET /v1/index`: model, dimension, count, factory, metric, retrievers, reranker.
    public func info() throws -> Data {
        let manifest = try folder.manifest()
        let object: [String: Any] = [
            "model": manifest.model.path, "dimension": manifest.model.dimension, "count": try folder.store.count(),
            "factory": batcher.searcher.index.factory, "metric": batcher.searcher.index.metric == .l2 ? "l2" : "inner_product",
            "retrievers": retrievers.map(\.rawValue), "rerank": reranker != nil,
        ]
        return Self.json(object)
    }

    /// The fields `/v1/search` takes (the OpenAPI document lists the same).
    public static let searchFields: Set<String> = ["query", "queries", "k", "retriever", "nprobe", "ef_search", "refine", "rerank", "rerank_depth", "fields"]
    public static let hitFields: Set<String> = ["id", "rank", "score", "text"]
    /// The largest `refine` a request may ask (candidates re-scored: refine x k per query).
    public static let maxRefine = 100

    /// `POST /v1/search`: `{"query": "...", "k": 10}` or `{"queries": [...]}`, with
    /// `retriever`, `nprobe`, `ef_search`, `refine`, `rerank`, `rerank_depth` and `fields`. The answer has
    /// `densekit search --json`'s shape: `{"query", "hits": [{"id", "rank", "score", "text"}]}`,
    /// an array of those for `queries`.
    public func search(body: Data) async throws(ServeError) -> Data {
        let request = try JSONFields(body, allowed: Self.searchFields)
        let single = try request.string("query"), many = try request.strings("queries")
        guard (single == nil) != (many == nil) else { throw .badRequest("give 'query' (one string) or 'queries' (an array), one of them") }
        let queries = many ?? [single ?? ""]
        guard !queries.isEmpty else { throw .badRequest("'queries' is empty") }
        guard queries.count <= limits.maxItems else { throw .badRequest("\(queries.count) queries in one request; at most \(limits.maxItems)") }
        if let blank = queries.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw .badRequest(many == nil ? "'query' is empty" : "'queries[\(blank)]' is empty")
        }
        let k = try request.int("k", in: 1...limits.maxK) ?? 10
        let retrieverName = try request.string("retriever") ?? RetrieverKind.dense.rawValue
        guard let retriever = RetrieverKind(rawValue: retrieverName), retrievers.contains(retriever) else {
            throw .badRequest("retriever '\(retrieverName)': this index serves \(retrievers.map(\.rawValue).joined(separator: ", "))")
        }
        // Dense search settings; BM25 has none and ignores them (as rerank_depth without rerank).
        var knobs = SearchKnobs(nprobe: try request.int("nprobe", in: 1...65_536), efSearch: try request.int("ef_search", in: 1...65_536),
                                refine: try request.int("refine", in: 1...Self.maxRefine))
        if retriever == .bm25 { knobs = SearchKnobs() }
        let rerank = try request.bool("rerank") ?? false
        if rerank, reranker == nil { throw .badRequest("'rerank': this server has no cross-encoder (start it with --rerank)") }
        let depth = try request.int("rerank_depth", in: 1...limits.maxK)
        let fields = try request.strings("fields").map(Set.init) ?? Self.hitFields
        if let unknown = fields.subtracting(Self.hitFields).sorted().first {
            throw .badRequest("'fields': unknown field '\(unknown)'; hits have \(Self.hitFields.sorted().joined(separator: ", "))")
        }

        // Reranking is bounded work, in the terms the OpenAPI document can state: at most
        // rerankBounds.queries queries, k and depth at most rerankBounds.depth (so at most
        // --max-rerank-pairs pairs).
        let bounds = limits.rerankBounds
        if rerank {
            guard queries.count <= bounds.queries else {
                throw .badRequest("reranking takes at most \(bounds.queries) queries per request, not \(queries.count) (--max-rerank-pairs \(limits.maxRerankPairs), depth \(bounds.depth))")
            }
            for (name, value) in [("k", k), ("rerank_depth", depth ?? 0)] where value > bounds.depth {
                throw .badRequest("'\(name)' must be at most \(bounds.depth) when reranking, not \(value) (--max-rerank-pairs \(limits.maxRerankPairs))")
            }
        }
        let firstStage = rerank ? max(k, depth ?? min(rerankDepth, bounds.depth)) : k
        let needText = fields.contains("text") || rerank
        let retrieved = try await retrieve(queries, k: firstStage, retriever: retriever, knobs: knobs, includeText: needText)
        var hits = retrieved
        if rerank, let reranker {
            let model = Reranker(model: reranker, depth: firstStage), encode = encode
            hits = try await onQueue(rerankQueue) { model.rerank(retrieved, queries: queries, options: encode).map { Array($0.prefix(k)) } }
        }
        let objects = zip(queries, hits).map { query, hits -> [String: Any] in
            ["query": query, "hits": hits.map { hit in
                var object: [String: Any] = [:]
                if fields.contains("id") { object["id"] = hit.id }
                if fields.contains("rank") { object["rank"] = hit.rank }
                if fields.contains("score") { object["score"] = Double(hit.score) }
                if fields.contains("text") { object["text"] = hit.text }
                return object
            }]
        }
        return Self.json(many == nil ? objects[0] : objects)
    }

    private func retrieve(_ queries: [String], k: Int, retriever: RetrieverKind, knobs: SearchKnobs, includeText: Bool) async throws(ServeError) -> [[Hit]] {
        do {
            switch retriever {
            case .dense:
                return try await batcher.search(queries, k: k, knobs: knobs, includeText: includeText)
            case .bm25, .hybrid:
                guard let lexical else { throw ServeError.badRequest("this index has no BM25 index") }
                let searcher = batcher.searcher, encode = encode
                let result: Result<[[Hit]], Error> = try await onQueue(lexicalQueue) {
                    Result {
                        retriever == .bm25 ? try lexical.search(queries, k: k, includeText: includeText)
                            : try HybridSearcher(dense: searcher, lexical: lexical, fusion: RankFusion(method: .rrf, depth: max(k, 1000)),
                                                 encode: encode, threads: encode.threads, knobs: knobs)
                            .search(queries, k: k, includeText: includeText, progress: { _ in })
                    }
                }
                return try result.get()
            }
        } catch let error as ServeError {
            throw error
        } catch let error as IndexError where knobs != SearchKnobs() {
            throw .badRequest("\(error)")
        } catch {
            throw ServeError(500, "search failed: \(error)")
        }
    }

    /// `POST /v1/embed`: `{"texts": [...]}` -> `{"dimension": d, "embeddings": [[...], ...]}`,
    /// the passage encoder's embeddings (the index's model).
    public func embed(body: Data) async throws(ServeError) -> Data {
        let request = try JSONFields(body, allowed: ["texts"])
        guard let texts = try request.strings("texts"), !texts.isEmpty else { throw .badRequest("'texts' must be a non-empty array of strings") }
        guard texts.count <= limits.maxItems else { throw .badRequest("\(texts.count) texts in one request; at most \(limits.maxItems)") }
        let encoder = batcher.searcher.encoder, encode = encode
        let embeddings = try await onQueue(embedQueue) { encoder.encode(texts, options: encode) }
        let rows = (0..<embeddings.count).map { row in embeddings.values[(row * embeddings.dimension)..<((row + 1) * embeddings.dimension)].map(Double.init) }
        return Self.json(["dimension": embeddings.dimension, "embeddings": rows])
    }

    /// `POST /v1/rerank`: `{"query": "...", "passages": [...]}` -> `{"results": [{"index", "score"}]}`,
    /// best first (the cross-encoder's scores, as `densekit rerank` gives them).
    public func rerank(body: Data) async throws(ServeError) -> Data {
        guard let reranker else { throw ServeError(404, "this server has no cross-encoder (start it with --rerank)") }
        let request = try JSONFields(body, allowed: ["query", "passages"])
        guard let query = try request.string("query"), !query.allSatisfy(\.isWhitespace) else { throw .badRequest("'query' must be a non-empty string") }
        guard let passages = try request.strings("passages"), !passages.isEmpty else { throw .badRequest("'passages' must be a non-empty array of strings") }
        guard passages.count <= min(limits.maxItems, limits.maxRerankPairs) else {
            throw .badRequest("\(passages.count) passages in one request; at most \(min(limits.maxItems, limits.maxRerankPairs))")
        }
        let encode = encode
        let ranked = try await onQueue(rerankQueue) { reranker.rerank([(query, passages)], options: encode)[0] }
        return Self.json(["results": zip(ranked.order, ranked.scores).map { ["index": $0, "score": $1] as [String: Any] }])
    }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// Runs `work` on `queue` (off the caller's thread) and waits for it; a 503 instead when it
    /// could not start within `limits.queueTimeout`.
    private func onQueue<T: Sendable>(_ queue: DispatchQueue, _ work: @escaping @Sendable () -> T) async throws(ServeError) -> T {
        let deadline = ContinuousClock.now + limits.queueTimeout, timeout = limits.queueTimeout
        let result: T? = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: ContinuousClock.now > deadline ? nil : work()) }
        }
        guard let result else { throw ServeError.busy(waited: timeout) }
        return result
    }
}
