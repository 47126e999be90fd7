import Foundation

/// The OpenAPI 3.0 document of `densekit serve`, built from the same field lists the service
/// checks requests with. A server serves the document of what it can do (its index's
/// retrievers, `nprobe` only for IVF, `ef_search` only for HNSW, reranking only with a
/// cross-encoder), so that every request the document allows is answered; the document with
/// everything is kept in the repository as `docs/openapi.json` (`densekit serve --openapi`;
/// a test checks the two are the same).
public enum OpenAPI {
    /// What one server can do.
    public struct Capabilities: Sendable, Equatable {
        public var retrievers: [String]
        public var nprobe: Bool
        public var efSearch: Bool
        public var rerank: Bool
        /// Most queries in one search (`--max-queries`).
        public var maxQueries: Int
        /// A reranking search's largest query count and depth (and k): `SearchService.Limits.rerankBounds`.
        public var rerankBounds: (queries: Int, depth: Int)

        public init(retrievers: [String], nprobe: Bool, efSearch: Bool, rerank: Bool, maxQueries: Int = 1_000,
                    rerankBounds: (queries: Int, depth: Int) = (20, 100)) {
            self.retrievers = retrievers
            self.nprobe = nprobe
            self.efSearch = efSearch
            self.rerank = rerank
            self.maxQueries = maxQueries
            self.rerankBounds = rerankBounds
        }

        public static func == (a: Capabilities, b: Capabilities) -> Bool {
            a.retrievers == b.retrievers && a.nprobe == b.nprobe && a.efSearch == b.efSearch && a.rerank == b.rerank
                && a.maxQueries == b.maxQueries && a.rerankBounds == b.rerankBounds
        }

        /// Every feature, default limits: the repository's document.
        public static let all = Capabilities(retrievers: ["dense", "bm25", "hybrid"], nprobe: true, efSearch: true, rerank: true)
    }

    static func schema(_ type: String, _ description: String? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var s: [String: Any] = ["type": type]
        if let description { s["description"] = description }
        return s.merging(extra) { a, _ in a }
    }

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }

    static func jsonBody(_ schema: [String: Any]) -> [String: Any] { ["content": ["application/json": ["schema": schema]]] }

    static func responses(_ ok: [String: Any], errors: [Int]) -> [String: Any] {
        var out: [String: Any] = ["200": ["description": "OK"].merging(jsonBody(ok)) { a, _ in a }]
        let reasons = [400: "A malformed or invalid request: the message names the field", 404: "Not served by this server",
                       413: "The body is over --max-body", 503: "Busy: the work waited over --timeout behind others'; retry later"]
        for code in errors { out[String(code)] = ["description": reasons[code] ?? "Error"].merging(jsonBody(ref("Error"))) { a, _ in a } }
        return out
    }

    static var hit: [String: Any] { schema("object", "One retrieved passage (fields as asked).", extra: ["properties": [
        "id": schema("string", "The passage id in the corpus."), "rank": schema("integer", "1-based rank."),
        "score": schema("number", "Inner product (higher is better), squared L2 distance (lower is better), BM25 or fused score, or the cross-encoder's score."),
        "text": schema("string", "The passage text."),
    ]]) }

    static func searchRequest(_ can: Capabilities) -> [String: Any] {
        let text = schema("string", extra: ["minLength": 1, "pattern": "\\S"])
        var properties: [String: Any] = [
            "query": schema("string", "One query (not blank).", extra: ["minLength": 1, "pattern": "\\S"]),
            "queries": schema("array", "Several queries (none blank), answered as an array.", extra: ["items": text, "minItems": 1, "maxItems": can.maxQueries]),
            "k": schema("integer", "Hits per query.", extra: ["minimum": 1, "maximum": 10_000, "default": 10]),
            "retriever": schema("string", "First stage (GET /v1/index lists the index's).", extra: ["enum": can.retrievers, "default": "dense"]),
            "fields": schema("array", "Hit fields to answer with (default all).", extra: ["items": schema("string", extra: ["enum": ["id", "rank", "score", "text"]])]),
        ]
        if can.nprobe { properties["nprobe"] = schema("integer", "IVF indexes: inverted lists visited, for this request only (bm25 ignores it).", extra: ["minimum": 1, "maximum": 65_536]) }
        if can.efSearch { properties["ef_search"] = schema("integer", "HNSW indexes: candidate list size, for this request only (bm25 ignores it).", extra: ["minimum": 1, "maximum": 65_536]) }
        properties["refine"] = schema("integer", "Dense retrieval: re-score the index's best refine x k candidates with the stored vectors and keep the k best (for PQ indexes, whose compressed scores cap recall), for this request only (bm25 ignores it).", extra: ["minimum": 1, "maximum": 100])
        if can.rerank {
            properties["rerank"] = schema("boolean", "Rerank with the server's cross-encoder (serve --rerank).", extra: ["default": false])
            properties["rerank_depth"] = schema("integer", "When reranking: first-stage hits reranked per query (default max(k, 100)); ignored otherwise.", extra: ["minimum": 1, "maximum": 10_000])
        }
        var rules: [[String: Any]] = [["oneOf": [["required": ["query"]], ["required": ["queries"]]]]]
        if can.rerank {
            // Reranking is bounded work: at most rerankBounds.queries x rerankBounds.depth pairs.
            let (queries, depth) = can.rerankBounds
            rules.append(["oneOf": [
                ["not": ["required": ["rerank"]]],
                ["required": ["rerank"], "properties": ["rerank": ["enum": [false]]]],
                ["required": ["rerank"], "properties": [
                    "rerank": ["enum": [true]], "k": ["maximum": depth], "rerank_depth": ["maximum": depth], "queries": ["maxItems": queries],
                ]],
            ]])
        }
        return schema("object", "One of query and queries\(can.rerank ? "; reranking at most \(can.rerankBounds.queries) queries to depth \(can.rerankBounds.depth)" : "").", extra: [
            "additionalProperties": false, "properties": properties, "allOf": rules,
        ])
    }

    static var searchAnswer: [String: Any] { schema("object", extra: ["properties": ["query": schema("string"), "hits": schema("array", extra: ["items": ref("Hit")])]]) }

    /// The document of everything, as `docs/openapi.json` holds it (sorted keys, indented).
    public static var document: Data { document(for: .all) }

    /// The document of what a server with `can` answers.
    public static func document(for can: Capabilities) -> Data {
        let paths: [String: Any] = [
            "/v1/search": ["post": [
                "summary": "Search: the same answer as densekit search --json (an object for query, an array of them for queries).",
                "requestBody": ["required": true].merging(jsonBody(ref("SearchRequest"))) { a, _ in a },
                "responses": responses(["oneOf": [ref("SearchAnswer"), schema("array", extra: ["items": ref("SearchAnswer")])]], errors: [400, 413, 503]),
            ]],
            "/v1/embed": ["post": [
                "summary": "Embeddings of texts by the index's model.",
                "requestBody": ["required": true].merging(jsonBody(schema("object", extra: ["additionalProperties": false, "required": ["texts"], "properties": [
                    "texts": schema("array", extra: ["items": schema("string"), "minItems": 1]),
                ]]))) { a, _ in a },
                "responses": responses(schema("object", extra: ["properties": [
                    "dimension": schema("integer"), "embeddings": schema("array", extra: ["items": schema("array", extra: ["items": schema("number")])]),
                ]]), errors: [400, 413, 503]),
            ]],
            "/v1/rerank": ["post": [
                "description": can.rerank ? "With the server's cross-encoder (serve --rerank)." : "This server has no cross-encoder: always 404.",
                "summary": "Cross-encoder scores of passages for a query, best first (serve --rerank).",
                "requestBody": ["required": true].merging(jsonBody(schema("object", extra: ["additionalProperties": false, "required": ["query", "passages"], "properties": [
                    "query": schema("string", extra: ["minLength": 1]), "passages": schema("array", extra: ["items": schema("string"), "minItems": 1, "maxItems": min(can.maxQueries, can.rerankBounds.queries * can.rerankBounds.depth)]),
                ]]))) { a, _ in a },
                "responses": responses(schema("object", extra: ["properties": ["results": schema("array", extra: ["items": schema("object", extra: ["properties": [
                    "index": schema("integer", "Position in passages."), "score": schema("number"),
                ]])])]]), errors: [400, 404, 413, 503]),
            ]],
            "/v1/index": ["get": [
                "summary": "The index: model, dimension, count, factory, metric, retrievers, reranker.",
                "responses": responses(schema("object", extra: ["properties": [
                    "model": schema("string"), "dimension": schema("integer"), "count": schema("integer"), "factory": schema("string"),
                    "metric": schema("string", extra: ["enum": ["inner_product", "l2"]]),
                    "retrievers": schema("array", extra: ["items": schema("string", extra: ["enum": ["dense", "bm25", "hybrid"]])]), "rerank": schema("boolean"),
                ]]), errors: []),
            ]],
            "/health": ["get": ["summary": "Liveness.", "responses": responses(schema("object", extra: ["properties": ["status": schema("string")]]), errors: [])]],
            "/openapi.json": ["get": ["summary": "This document.", "responses": responses(schema("object"), errors: [])]],
            "/": ["get": ["summary": "A search page (HTML, self-contained).", "responses": ["200": ["description": "OK", "content": ["text/html": ["schema": schema("string")]]]]]],
        ]
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "densekit serve", "version": "1", "description": "Dense, BM25 and hybrid search over a densekit index, embeddings and reranking."],
            "paths": paths,
            "components": ["schemas": [
                "SearchRequest": searchRequest(can), "SearchAnswer": searchAnswer, "Hit": hit,
                "Error": schema("object", extra: ["properties": ["error": schema("object", extra: ["properties": [
                    "status": schema("integer"), "message": schema("string", "What was wrong, naming the field."),
                ]])]]),
            ]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return data + Data("\n".utf8)
    }
}
