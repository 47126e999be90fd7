import DensekitEncoder
import DensekitIndex
import DensekitStore
import DensekitTestSupport
import DensekitTokenizer
import Foundation
import Testing

/// The BM25 index built with the vectors: scores as Lucene's formula gives them, postings kept
/// right through replaced passages and a killed build, rebuilt from the store alike.
@Suite struct LexicalIndexTests {
    static let passages = [
        "the cat sat on the mat", "a dog ran", "the big red dog sat", "cat cat cat", "mat", "red red mat and dog",
    ].enumerated().map { SourcePassage(id: "p\($0.offset)", text: $0.element, line: $0.offset + 1) }

    func build(_ passages: [SourcePassage], lexical: LexicalSettings? = LexicalSettings(), policy: EmbeddingStore.DuplicatePolicy = .error,
               folder: IndexFolder? = nil, failAfter: Int? = nil) throws -> IndexFolder {
        let model = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 7))
        let encoder = try SentenceEncoder.load(directory: model)
        let folder = try folder ?? IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.commitEvery = 2
        options.lexical = lexical
        options.onDuplicate = policy
        let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
        var position = 0
        _ = try builder.build(next: {
            if let failAfter, position == failAfter { throw CancellationError() }
            guard position < passages.count else { return nil }
            defer { position += 1 }
            return passages[position]
        })
        return folder
    }

    /// Lucene's BM25 computed here in Double from the texts, independently of the index.
    func expectedScores(_ query: String, _ texts: [String], k1: Double = 1.5, b: Double = 0.75) -> [Double] {
        let analyzer = LexicalAnalyzer()
        let documents = texts.map { analyzer.terms($0) }
        let average = Double(documents.map(\.count).reduce(0, +)) / Double(documents.count)
        let n = Double(documents.count)
        var scores: [Double] = []
        for terms in documents {
            var score = 0.0
            for term in analyzer.terms(query) {
                let df = Double(documents.filter { $0.contains(term) }.count)
                guard df > 0 else { continue }
                let idf: Double = log(1 + (n - df + 0.5) / (df + 0.5))
                let tf = Double(terms.filter { $0 == term }.count)
                let norm: Double = k1 * (1 - b + b * Double(terms.count) / average)
                score += idf * tf / (tf + norm)
            }
            scores.append(score)
        }
        return scores
    }

    @Test func scoresAreLucenesBM25() throws {
        let folder = try build(Self.passages)
        let index = try LexicalIndex(folder: folder)
        for query in ["red dog", "cat mat", "cat cat", "zebra", "the"] {
            let expected = expectedScores(query, Self.passages.map(\.text))
            let hits = try index.search([query], k: 10)[0]
            let matching = expected.filter { $0 > 0 }.count
            #expect(hits.count == matching, "\(query)")
            for hit in hits { #expect(abs(Double(hit.score) - expected[hit.id]) < 1e-5, "\(query) p\(hit.id)") }
            let scores = hits.map(\.score)
            #expect(scores == scores.sorted(by: >))
        }
    }

    /// Replaced passages leave no stale postings: the incremental index answers as one rebuilt
    /// from the stored passages, and both as the formula on the final texts.
    @Test func replacedPassagesAndRebuildAgree() throws {
        let folder = try build(Self.passages)
        let replacement = [SourcePassage(id: "p3", text: "zebra zebra mat", line: 7), SourcePassage(id: "p1", text: "red cat", line: 8)]
        let grown = try build(Self.passages + replacement, policy: .replace, folder: folder)
        var texts = Self.passages.map(\.text)
        texts[3] = "zebra zebra mat"
        texts[1] = "red cat"
        let queries = ["zebra", "cat", "red mat", "dog"]
        let incremental = try LexicalIndex(folder: grown).search(queries, k: 10)
        try grown.rebuildLexical(LexicalSettings())
        let rebuilt = try LexicalIndex(folder: grown).search(queries, k: 10)
        for (query, (a, b)) in zip(queries, zip(incremental, rebuilt)) {
            #expect(a.map(\.id) == b.map(\.id), "\(query)")
            let expected = expectedScores(query, texts)
            for hit in a { #expect(abs(Double(hit.score) - expected[hit.id]) < 1e-5, "\(query) p\(hit.id)") }
        }
    }

    /// A build killed between commits and resumed has the postings of exactly the passages
    /// stored (same transactions as the vectors).
    @Test func aKilledBuildResumesWithConsistentPostings() throws {
        let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        #expect(throws: CancellationError.self) { try build(Self.passages, folder: folder, failAfter: 3) }
        #expect(try folder.store.count() == 2)
        #expect(try folder.store.lexicalStatistics()?.documents == 2)
        _ = try build(Self.passages, folder: folder)
        #expect(try folder.store.lexicalStatistics()?.documents == 6)
        let expected = expectedScores("red dog", Self.passages.map(\.text))
        for hit in try LexicalIndex(folder: folder).search(["red dog"], k: 10)[0] {
            #expect(abs(Double(hit.score) - expected[hit.id]) < 1e-5)
        }
    }

    @Test func anIndexWithoutBM25SaysHowToAddIt() throws {
        let folder = try build(Self.passages, lexical: nil)
        #expect { try LexicalIndex(folder: folder) } throws: { "\($0)".contains("index rebuild --index \(folder.path) --bm25") }
        try folder.rebuildLexical(LexicalSettings())
        #expect(try LexicalIndex(folder: folder).search(["red dog"], k: 3)[0].first?.id == 5)
    }
}
