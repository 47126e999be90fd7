import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitServe
import DensekitTestSupport
import Foundation
import Testing

/// `densekit serve`'s answers without HTTP, on a tiny random model and an IVF index: concurrent
/// requests (mixed k, nprobe, refine, fields) each get what a lone search gets and share encoder
/// batches; bad requests get a 400 naming the problem.
@Suite struct SearchServiceTests {
    /// A tiny-model IVF index (and BM25) of 200 passages.
    static let indexPath: String = {
        do {
            let modelFolder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
            let encoder = try SentenceEncoder.load(directory: modelFolder)
            let path = try TinyModel.temporaryFolder().path
            let folder = try IndexFolder(path: path, create: true)
            var options = IndexBuilder.Options()
            options.factory = "IVF4,Flat"
            let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
            try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
            var generator = SeededGenerator(seed: 5)
            var line = 0
            _ = try builder.build(next: {
                guard line < 200 else { return nil }
                line += 1
                let text = (0..<Int.random(in: 3...8, using: &generator)).map { _ in TinyModel.words[Int.random(in: 0..<10, using: &generator)] }.joined(separator: " ")
                return SourcePassage(id: "p\(line)", text: text, line: line)
            })
            return path
        } catch {
            fatalError("fixture: \(error)")
        }
    }()

    static func serve() throws -> SearchService {
        try SearchService(index: indexPath, rerank: nil, threads: 2, maxWait: .milliseconds(20), log: { _ in })
    }

    static let service: SearchService = {
        do { return try serve() } catch { fatalError("fixture: \(error)") }
    }()

    static let queries = ["the cat sat", "big red dog", "a mat", "dog ran on the mat", "cat", "red red red", "the big cat ran", "on a dog"]

    func object(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

    /// The hits a lone `Searcher` call gives, as the service writes them.
    func expected(_ query: String, k: Int, nprobe: Int?, refine: Int? = nil) throws -> [[String: Any]] {
        let hits = try Self.service.batcher.searcher.search([query], k: k, includeText: true, encode: EncodeOptions(batchSize: 64, threads: 1),
                                                            knobs: SearchKnobs(nprobe: nprobe, refine: refine))[0]
        return hits.map { ["id": $0.id, "rank": $0.rank, "score": Double($0.score), "text": $0.text] }
    }

    /// The service reads the store at its hits' scattered places, so it opens it without the
    /// kernel's read-ahead (the map's random-read flag): with read-ahead, each page a search
    /// misses costs the disk's whole read-ahead window.
    @Test func storeIsMappedForRandomReads() throws {
        _ = Self.service
        let flags = try MemoryMaps.flags(of: Self.indexPath + "/store/data.mdb")
        #expect(!flags.isEmpty)
        #expect(flags.allSatisfy { $0.contains("rr") })
    }

    @Test func concurrentMixedRequestsEachGetTheirOwnAnswerAndShareBatches() async throws {
        let service = try Self.serve()  // its own, so that the batch counts are this test's
        let before = service.batcher.statistics
        let requests = (0..<24).map { i -> (query: String, k: Int, nprobe: Int?, refine: Int?) in
            (Self.queries[i % 8], 1 + i % 5, [nil, 1, 4][i % 3], [nil, 3][i % 2])
        }
        let answers = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
            for (i, request) in requests.enumerated() {
                group.addTask {
                    var body: [String: Any] = ["query": request.query, "k": request.k]
                    if let nprobe = request.nprobe { body["nprobe"] = nprobe }
                    if let refine = request.refine { body["refine"] = refine }
                    return (i, try await service.search(body: JSONSerialization.data(withJSONObject: body)))
                }
            }
            var out: [Int: Data] = [:]
            for try await (i, data) in group { out[i] = data }
            return out
        }
        for (i, request) in requests.enumerated() {
            let data = try #require(answers[i])
            let answer = try #require(try object(data) as? [String: Any])
            #expect(answer["query"] as? String == request.query)
            let hits = try #require(answer["hits"] as? [[String: Any]])
            let wanted = try expected(request.query, k: request.k, nprobe: request.nprobe, refine: request.refine)
            #expect(hits.map { $0["id"] as? String } == wanted.map { $0["id"] as? String }, "request \(i)")
            #expect(zip(hits, wanted).allSatisfy { abs(($0["score"] as? Double ?? 9) - ($1["score"] as? Double ?? 0)) < 1e-5 && $0["text"] as? String == $1["text"] as? String })
        }
        let after = service.batcher.statistics
        #expect(after.texts - before.texts == 24)
        #expect(after.batches - before.batches < 24, "24 concurrent requests should share encoder batches")
    }

    /// After a batch of several requests the next batch's first request waits `busyWait`; after
    /// a batch of one (a lone client) it waits `maxWait` (0: starts at once). Checked on the
    /// batcher's decision, not on timings (the suite runs its tests in parallel on 2 cores).
    @Test func afterABatchOfSeveralTheNextWaitsForItsCompanions() async throws {
        let searcher = Self.service.batcher.searcher
        func one(_ batcher: QueryBatcher, _ query: String) async throws { _ = try await batcher.search([query], k: 3, knobs: SearchKnobs(), includeText: false) }
        /// Concurrent requests until a batch takes several (almost always the first try).
        func batchOfSeveral(_ batcher: QueryBatcher) async throws {
            for _ in 0..<50 where batcher.statistics.lastBatchRequests < 2 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for query in Self.queries { group.addTask { try await one(batcher, query) } }
                    try await group.waitForAll()
                }
            }
            try #require(batcher.statistics.lastBatchRequests >= 2)
        }
        let busy = QueryBatcher(searcher: searcher, encode: EncodeOptions(batchSize: 64, threads: 1), maxWait: .zero, busyWait: .milliseconds(5))
        #expect(busy.nextStartDelay == .zero)
        try await one(busy, "cat")
        #expect(busy.statistics.lastBatchRequests == 1 && busy.nextStartDelay == .zero, "after a batch of one, a request starts at once")
        try await batchOfSeveral(busy)
        #expect(busy.nextStartDelay == .milliseconds(5), "after a batch of several, a request waits for its companions")
        try await one(busy, "dog")
        #expect(busy.nextStartDelay == .zero)
        let eager = QueryBatcher(searcher: searcher, encode: EncodeOptions(batchSize: 64, threads: 1), maxWait: .zero, busyWait: .zero)
        try await batchOfSeveral(eager)
        #expect(eager.nextStartDelay == .zero, "without a busy wait every batch starts at once")
    }

    @Test func manyQueriesAndFieldsAnswerInTheCLIsShape() async throws {
        let body = try JSONSerialization.data(withJSONObject: ["queries": Array(Self.queries.prefix(3)), "k": 2, "fields": ["id", "score"]])
        let answer = try #require(try object(await Self.service.search(body: body)) as? [[String: Any]])
        #expect(answer.count == 3 && answer.map { $0["query"] as? String } == Array(Self.queries.prefix(3)))
        for entry in answer {
            let hits = try #require(entry["hits"] as? [[String: Any]])
            #expect(hits.count == 2 && hits.allSatisfy { Set($0.keys) == ["id", "score"] })
        }
        let info = try #require(try object(Self.service.info()) as? [String: Any])
        #expect(info["count"] as? Int == 200 && info["factory"] as? String == "IVF4,Flat" && info["retrievers"] as? [String] == ["dense", "bm25", "hybrid"])
    }

    @Test(arguments: [
        (#"{"query": "cat", "k": 0}"#, "'k' must be between 1 and 10000"),
        (#"{"query": "cat", "k": 10001}"#, "'k' must be between 1 and 10000"),
        (#"{"query": "cat", "k": 2.5}"#, "'k' must be an integer"),
        (#"{"query": "cat", "k": "3"}"#, "'k' must be an integer, not a string"),
        (#"{"query": "cat", "retriever": null}"#, "'retriever' must be a string, not null"),
        (#"{"query": ""}"#, "'query' is empty"),
        (#"{"queries": []}"#, "'queries' is empty"),
        (#"{"queries": ["cat", "  "]}"#, "'queries[1]' is empty"),
        (#"{"queries": ["cat", 3]}"#, "'queries[1]' must be a string"),
        (#"{"k": 3}"#, "give 'query' (one string) or 'queries'"),
        (#"{"query": "cat", "queries": ["dog"]}"#, "give 'query' (one string) or 'queries'"),
        (#"{"query": "cat", "colour": "red"}"#, "unknown field 'colour'"),
        (#"{"query": "cat", "retriever": "magic"}"#, "retriever 'magic': this index serves dense, bm25, hybrid"),
        (#"{"query": "cat", "ef_search": 32}"#, "efSearch"),
        (#"{"query": "cat", "refine": 0}"#, "'refine' must be between 1 and 100"),
        (#"{"query": "cat", "refine": 101}"#, "'refine' must be between 1 and 100"),
        (#"{"query": "cat", "rerank": true}"#, "no cross-encoder"),
        (#"{"query": "cat", "fields": ["id", "vector"]}"#, "unknown field 'vector'"),
        (#"{"query": "cat""#, "malformed JSON"),
        (#"["cat"]"#, "must be a JSON object, not an array"),
        ("", "malformed JSON"),
    ])
    func badRequestsAreRefusedWithTheReason(body: String, message: String) async throws {
        do {
            _ = try await Self.service.search(body: Data(body.utf8))
            Issue.record("accepted: \(body)")
        } catch {
            #expect(error.status == 400 && error.message.contains(message), "\(body): \(error)")
            let json = try #require(try object(error.body) as? [String: [String: Any]])
            #expect(json["error"]?["status"] as? Int == 400)
        }
    }

    @Test func embedGivesTheIndexModelsVectorsAndRerankNeedsAModel() async throws {
        let answer = try #require(try object(await Self.service.embed(body: Data(#"{"texts": ["the cat", "a dog"]}"#.utf8))) as? [String: Any])
        let rows = try #require(answer["embeddings"] as? [[Double]])
        let direct = Self.service.batcher.searcher.encoder.encode(["the cat", "a dog"])
        #expect(rows.count == 2 && answer["dimension"] as? Int == direct.dimension)
        #expect(zip(rows.flatMap { $0 }, direct.values).allSatisfy { abs($0 - Double($1)) < 1e-6 })
        for body in [#"{"texts": []}"#, #"{"texts": "cat"}"#, #"{"text": ["cat"]}"#] {
            await #expect { try await Self.service.embed(body: Data(body.utf8)) } throws: { ($0 as? ServeError)?.status == 400 }
        }
        await #expect { try await Self.service.rerank(body: Data(#"{"query": "a", "passages": ["b"]}"#.utf8)) } throws: { ($0 as? ServeError)?.status == 404 }
    }
}

/// The OpenAPI document: the repository's copy is the one the server serves, and it lists the
/// fields the service takes.
@Suite struct OpenAPITests {
    static var repositoryCopy: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
    }

    @Test func theRepositoryCopyIsTheServedDocument() throws {
        let copy = try Data(contentsOf: Self.repositoryCopy)
        #expect(copy == OpenAPI.document, "docs/openapi.json is out of date: densekit serve --openapi > docs/openapi.json")
    }

    @Test func itListsTheFieldsTheServiceTakes() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPI.document) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let search = try #require((schemas["SearchRequest"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(Set(search.keys) == SearchService.searchFields)
        let hit = try #require((schemas["Hit"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(Set(hit.keys) == SearchService.hitFields)
        let paths = try #require(document["paths"] as? [String: Any])
        #expect(Set(paths.keys) == ["/v1/search", "/v1/embed", "/v1/rerank", "/v1/index", "/health", "/openapi.json", "/"])
    }
}

/// Bounded work: reranking at most --max-rerank-pairs pairs per request (and the OpenAPI
/// document says so), and work that waits past --timeout answered 503.
@Suite struct ServeLimitsTests {
    /// The index of `SearchServiceTests`, served with a tiny cross-encoder and `limits`.
    static func serve(_ limits: SearchService.Limits) throws -> SearchService {
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let ranker = try CrossEncoder.starting(from: ModelFolder(base), seed: 4)
        let folder = try TinyModel.temporaryFolder()
        try ModelFolder(folder).write(ranker)
        return try SearchService(index: SearchServiceTests.indexPath, rerank: folder.path, threads: 2, limits: limits, log: { _ in })
    }

    @Test func rerankingIsBoundedAndTheDocumentSaysHow() async throws {
        var limits = SearchService.Limits()
        limits.maxRerankPairs = 60
        let service = try Self.serve(limits)
        #expect(limits.rerankBounds == (1, 60))
        // One query, reranked to depth 60 (60 pairs): served, cut to k.
        let body = try JSONSerialization.data(withJSONObject: ["queries": ["the cat sat"], "k": 4, "rerank": true, "rerank_depth": 60])
        let answer = try #require(try JSONSerialization.jsonObject(with: await service.search(body: body)) as? [[String: Any]])
        #expect(answer.count == 1 && answer.allSatisfy { ($0["hits"] as? [[String: Any]])?.count == 4 })
        // Two queries, or a depth of 61, are more than the document allows: refused, saying why.
        for (request, message) in [(["queries": ["cat", "dog"], "rerank": true, "rerank_depth": 5], "at most 1 queries per request, not 2"),
                                   (["query": "cat", "rerank": true, "rerank_depth": 61], "'rerank_depth' must be at most 60 when reranking"),
                                   (["query": "cat", "rerank": true, "k": 61], "'k' must be at most 60 when reranking")] as [([String: Any], String)] {
            let over = try JSONSerialization.data(withJSONObject: request)
            await #expect { try await service.search(body: over) } throws: { ($0 as? ServeError)?.status == 400 && "\($0)".contains(message) }
        }
        // Without reranking none of that applies.
        _ = try await service.search(body: JSONSerialization.data(withJSONObject: ["queries": ["cat", "dog"], "k": 61]))
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPI.document(for: service.capabilities)) as? [String: Any])
        let text = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
        #expect(text.contains(#""maxItems":1"#) && text.contains(#""rerank_depth":{"maximum":60}"#), "\(text.prefix(400))")
    }

    @Test func workThatWaitsPastTheTimeoutIsAnswered503() async throws {
        var limits = SearchService.Limits()
        limits.queueTimeout = .zero
        let service = try Self.serve(limits)
        func busy(_ call: () async throws(ServeError) -> Data) async -> Bool {
            do { _ = try await call(); return false } catch { return error.status == 503 && error.message.contains("busy") }
        }
        #expect(await busy { () async throws(ServeError) in try await service.search(body: Data(#"{"query": "cat"}"#.utf8)) })
        #expect(await busy { () async throws(ServeError) in try await service.embed(body: Data(#"{"texts": ["cat"]}"#.utf8)) })
        #expect(await busy { () async throws(ServeError) in try await service.rerank(body: Data(#"{"query": "cat", "passages": ["a dog"]}"#.utf8)) })
    }
}
