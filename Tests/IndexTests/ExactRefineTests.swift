import DensekitIndex
import DensekitSearch
import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

/// `--refine`: a compressed index's candidates re-scored with the stored vectors.
@Suite struct ExactRefineTests {
    /// The fixture's 150 passages and vectors imported into a coarse PQ index (2 sub-vectors of
    /// 12 dimensions, 16 centroids each), whose approximate scores misorder neighbours.
    static let coarse: IndexFolder = {
        do {
            let built = ImportedVectorsTests.built
            let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
            var options = IndexBuilder.Options()
            options.factory = "PQ2x4"
            options.commitEvery = 32
            let source = try ImportedVectorsTests().imported()
            let builder = IndexBuilder(folder: folder, vectors: source, options: options)
            try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: built.encoder.identity(), vectorSource: source.matrix.path)
            _ = try builder.build(next: IndexFolderTests().reader(ImportedVectorsTests.passages))
            return folder
        } catch {
            fatalError("fixture: \(error)")
        }
    }()

    static let queries = ["the cat sat", "big red dog ran", "mat", "a dog and a cat", "red"]

    /// Refining every candidate (factor x k >= 150) gives exact search's ranking and scores;
    /// without refining, the PQ index's own ranking differs (or the test would prove nothing).
    @Test func refiningAllCandidatesIsExactSearch() throws {
        let exact = try Searcher(folder: ImportedVectorsTests.built.folder, log: { _ in }).search(Self.queries, k: 5)
        let searcher = try Searcher(folder: Self.coarse, log: { _ in })
        let plain = try searcher.search(Self.queries, k: 5)
        let refined = try searcher.search(Self.queries, k: 5, knobs: SearchKnobs(refine: 30))
        #expect(plain.map { $0.map(\.id) } != exact.map { $0.map(\.id) })
        #expect(refined.map { $0.map(\.id) } == exact.map { $0.map(\.id) })
        for (a, b) in zip(refined.joined(), exact.joined()) { #expect(abs(a.score - b.score) < 1e-5, "\(a.id)") }
        #expect(refined.allSatisfy { $0.map(\.rank) == [1, 2, 3, 4, 5] })
    }

    /// Importing 20,000 vectors and building a trained index over them reads every vector
    /// through the store's memory map; the scans release the pages as they go, so what stays
    /// resident is a small part of the vectors (memory flat in the collection's size).
    @Test func importAndRebuildLeaveTheStoreMostlyUnmapped() throws {
        let dimension = ImportedVectorsTests.built.encoder.dimension, count = 20_000
        var generator = SeededGenerator(seed: 5)
        var rows = (0..<(count * dimension)).map { _ in Float.random(in: -1...1, using: &generator) }
        for r in 0..<count {
            let norm = (0..<dimension).map { rows[r * dimension + $0] * rows[r * dimension + $0] }.reduce(0, +).squareRoot()
            for c in 0..<dimension { rows[r * dimension + c] /= norm }
        }
        let source = try ImportedVectorsTests().imported(rows: rows)
        let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.factory = "IVF4,Flat"
        options.commitEvery = 1_000
        let builder = IndexBuilder(folder: folder, vectors: source, options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: ImportedVectorsTests.built.encoder.identity(), vectorSource: source.matrix.path)
        let passages = (0..<count).map { SourcePassage(id: "v\($0)", text: "passage \($0)", line: $0 + 1) }
        _ = try builder.build(next: IndexFolderTests().reader(passages))
        let vectorBytes = count * dimension * 4
        let resident = try MemoryMaps.mappings(of: folder.path + "/store/data.mdb").map(\.residentBytes).reduce(0, +)
        #expect(resident < vectorBytes / 4, "\(resident) bytes of the store resident after the import (vectors: \(vectorBytes))")
        try folder.rebuild(factory: "IVF4,Flat", metric: .innerProduct, log: { _ in })
        let afterRebuild = try MemoryMaps.mappings(of: folder.path + "/store/data.mdb").map(\.residentBytes).reduce(0, +)
        #expect(afterRebuild < vectorBytes / 4, "\(afterRebuild) bytes resident after the rebuild (vectors: \(vectorBytes))")
    }

    /// A small factor re-scores only the index's own top factor x k: its k best by exact score,
    /// each score the exact inner product of the query with the stored vector.
    @Test func refiningRescoresTheIndexsCandidates() throws {
        let searcher = try Searcher(folder: Self.coarse, log: { _ in })
        let candidates = try searcher.search(Self.queries, k: 10)
        let refined = try searcher.search(Self.queries, k: 5, knobs: SearchKnobs(refine: 2))
        let exactAll = try Searcher(folder: ImportedVectorsTests.built.folder, log: { _ in }).search(Self.queries, k: 150)
        for q in Self.queries.indices {
            let exactScore = Dictionary(uniqueKeysWithValues: exactAll[q].map { ($0.id, $0.score) })
            let pool = candidates[q].map(\.id)
            // Ties keep the index's order, as refining does.
            let want = pool.enumerated().sorted { a, b in
                exactScore[a.element]! == exactScore[b.element]! ? a.offset < b.offset : exactScore[a.element]! > exactScore[b.element]!
            }.map(\.element).prefix(5)
            #expect(refined[q].map(\.id) == Array(want), "query \(q)")
            for hit in refined[q] { #expect(abs(hit.score - exactScore[hit.id]!) < 1e-5) }
        }
        #expect(throws: IndexError.self) { _ = try searcher.search(Self.queries, k: 5, knobs: SearchKnobs(refine: 1_001)) }
    }
}
