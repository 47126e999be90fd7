import Foundation

/// The OpenAPI 3.0 document of `densekit serve`, served at `/openapi.json` and kept in the
/// repository as `docs/openapi.json` (a test checks the two are the same; `densekit serve
/// --openapi` prints it). Built from the same field lists the service checks requests with.
public enum OpenAPI {
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
                       413: "The body is over --max-body"]
        for code in errors { out[String(code)] = ["description": reasons[code] ?? "Error"].merging(jsonBody(ref("Error"))) { a, _ in a } }
        return out
    }

    static var hit: [String: Any] { schema("object", "One retrieved passage (fields as asked).", extra: ["properties": [
        "id": schema("string", "The passage id in the corpus."), "rank": schema("integer", "1-based rank."),
        "score": schema("number", "Inner product (higher is better), squared L2 distance (lower is better), BM25 or fused score, or the cross-encoder's score."),
        "text": schema("string", "The passage text."),
    ]]) }

    static var searchRequest: [String: Any] { schema("object", "One of query and queries.", extra: [
        "additionalProperties": false,
        "properties": [
            "query": schema("string", "One query (not empty).", extra: ["minLength": 1]),
            "queries": schema("array", "Several queries, answered as an array.", extra: ["items": schema("string", extra: ["minLength": 1]), "minItems": 1]),
            "k": schema("integer", "Hits per query.", extra: ["minimum": 1, "maximum": 10_000, "default": 10]),
            "retriever": schema("string", "First stage (GET /v1/index lists the index's).", extra: ["enum": ["dense", "bm25", "hybrid"], "default": "dense"]),
            "nprobe": schema("integer", "IVF indexes: inverted lists visited, for this request only.", extra: ["minimum": 1, "maximum": 65_536]),
            "ef_search": schema("integer", "HNSW indexes: candidate list size, for this request only.", extra: ["minimum": 1, "maximum": 65_536]),
            "rerank": schema("boolean", "Rerank with the server's cross-encoder (serve --rerank).", extra: ["default": false]),
            "rerank_depth": schema("integer", "With rerank: first-stage hits reranked per query (default max(k, 100)).", extra: ["minimum": 1, "maximum": 10_000]),
            "fields": schema("array", "Hit fields to answer with (default all).", extra: ["items": schema("string", extra: ["enum": ["id", "rank", "score", "text"]])]),
        ],
    ]) }

    static var searchAnswer: [String: Any] { schema("object", extra: ["properties": ["query": schema("string"), "hits": schema("array", extra: ["items": ref("Hit")])]]) }

    /// The document, as `docs/openapi.json` holds it (sorted keys, indented).
    public static var document: Data {
        let paths: [String: Any] = [
            "/v1/search": ["post": [
                "summary": "Search: the same answer as densekit search --json (an object for query, an array of them for queries).",
                "requestBody": ["required": true].merging(jsonBody(ref("SearchRequest"))) { a, _ in a },
                "responses": responses(["oneOf": [ref("SearchAnswer"), schema("array", extra: ["items": ref("SearchAnswer")])]], errors: [400, 413]),
            ]],
            "/v1/embed": ["post": [
                "summary": "Embeddings of texts by the index's model.",
                "requestBody": ["required": true].merging(jsonBody(schema("object", extra: ["additionalProperties": false, "required": ["texts"], "properties": [
                    "texts": schema("array", extra: ["items": schema("string"), "minItems": 1]),
                ]]))) { a, _ in a },
                "responses": responses(schema("object", extra: ["properties": [
                    "dimension": schema("integer"), "embeddings": schema("array", extra: ["items": schema("array", extra: ["items": schema("number")])]),
                ]]), errors: [400, 413]),
            ]],
            "/v1/rerank": ["post": [
                "summary": "Cross-encoder scores of passages for a query, best first (serve --rerank).",
                "requestBody": ["required": true].merging(jsonBody(schema("object", extra: ["additionalProperties": false, "required": ["query", "passages"], "properties": [
                    "query": schema("string", extra: ["minLength": 1]), "passages": schema("array", extra: ["items": schema("string"), "minItems": 1]),
                ]]))) { a, _ in a },
                "responses": responses(schema("object", extra: ["properties": ["results": schema("array", extra: ["items": schema("object", extra: ["properties": [
                    "index": schema("integer", "Position in passages."), "score": schema("number"),
                ]])])]]), errors: [400, 404, 413]),
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
                "SearchRequest": searchRequest, "SearchAnswer": searchAnswer, "Hit": hit,
                "Error": schema("object", extra: ["properties": ["error": schema("object", extra: ["properties": [
                    "status": schema("integer"), "message": schema("string", "What was wrong, naming the field."),
                ]])]]),
            ]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return data + Data("\n".utf8)
    }
}
