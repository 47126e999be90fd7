import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitTestSupport
import Foundation
import Testing

/// A refresh re-encodes the collection with the weights it is given and mines again; it reuses
/// a complete refresh of the same weights, resumes a partial index of the same weights and
/// starts over one of other weights.
@Suite struct NegativeRefreshTests {
    /// 40 passages of tiny-model words; query i asks for passage i with its first two words.
    func corpus() throws -> (collection: String, queries: [(id: String, text: String)], qrels: Qrels) {
        let words = TinyModel.words.filter { !$0.hasPrefix("##") && $0.first?.isLetter == true }
        var lines = "", queries: [(id: String, text: String)] = [], qrels: Qrels = [:]
        for i in 0..<40 {
            let text = (0..<5).map { words[(i * 7 + $0 * 3 + i / 5) % words.count] }
            lines += "p\(i)\t\(text.joined(separator: " ")) \(i)\n"
            queries.append(("q\(i)", text.prefix(2).joined(separator: " ")))
            qrels["q\(i)"] = ["p\(i)": 1]
        }
        let path = try TinyModel.temporaryFolder().appendingPathComponent("collection.tsv")
        try lines.write(to: path, atomically: true, encoding: .utf8)
        return (path.path, queries, qrels)
    }

    func refresh(_ directory: URL, _ corpus: (collection: String, queries: [(id: String, text: String)], qrels: Qrels)) throws -> NegativeRefresh {
        var options = HardNegativeMiner.Options()
        options.rangeMax = 10
        options.negativesPerQuery = 4
        return try NegativeRefresh(directory: directory, collection: corpus.collection, queries: corpus.queries, qrels: corpus.qrels,
                                   recipe: MiningRecipe(retriever: .dense, options: options), encode: EncodeOptions(batchSize: 8, threads: 1))
    }

    func save(seed: UInt64) -> (URL) throws -> Void {
        { url in try TinyModel.writeFolder(at: url, parameters: TinyModel.parameters(seed: seed)) }
    }

    @Test func aRefreshIsReusedWithTheSameWeightsAndRedoneWithOthers() throws {
        let corpus = try corpus()
        let directory = try TinyModel.temporaryFolder()
        let refresh = try refresh(directory, corpus)
        let path = try refresh.refresh(step: 3, saveModel: save(seed: 1))
        let first = try String(contentsOfFile: path, encoding: .utf8)
        let report = try #require(refresh.lastReport)
        #expect(report.passages == 40 && report.resumedAfterPassages == 0 && !report.reused)
        #expect(report.queriesWithNegatives == 40 && report.negatives == 160)
        #expect(try refresh.completed(step: 3) != nil)
        #expect(try refresh.negatives(completedAt: 3) == path)
        #expect(throws: (any Error).self) { try refresh.negatives(completedAt: 4) }

        _ = try refresh.refresh(step: 3, saveModel: save(seed: 1))
        #expect(refresh.lastReport?.reused == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == first)

        _ = try refresh.refresh(step: 3, saveModel: save(seed: 2))
        #expect(refresh.lastReport?.reused == false && refresh.lastReport?.resumedAfterPassages == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) != first, "other weights, other negatives")
    }

    /// A refresh killed while encoding left a partial index: the next attempt with the same
    /// weights continues it and ends with the negatives of an uninterrupted refresh.
    @Test func aPartialIndexOfTheSameWeightsIsResumed() throws {
        let corpus = try corpus()
        let clean = try refresh(try TinyModel.temporaryFolder(), corpus)
        let expected = try String(contentsOfFile: try clean.refresh(step: 2, saveModel: save(seed: 1)), encoding: .utf8)

        let directory = try TinyModel.temporaryFolder()
        let interrupted = try refresh(directory, corpus)
        // What the killed attempt left: its model and the first 12 passages committed.
        let folder = interrupted.folder(step: 2)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        try save(seed: 1)(folder.appendingPathComponent("model"))
        // In a scope of its own: the attempt's folder (and its build lock) is gone after it.
        do {
            let model = try ModelFolder(folder.appendingPathComponent("model")).loadDualEncoder()
            var options = IndexBuilder.Options()
            options.commitEvery = 4
            options.lexical = nil
            options.encode = EncodeOptions(batchSize: 8, threads: 1)
            let builder = IndexBuilder(folder: try IndexFolder(path: folder.appendingPathComponent("index").path, access: .create),
                                       encoder: model.passage, options: options)
            let source = try PassageReader(path: corpus.collection)
            try builder.prepare(source: URL(fileURLWithPath: corpus.collection).standardizedFileURL.path, format: source.format.rawValue,
                                model: try model.identity())
            var given = 0
            struct Killed: Error {}
            #expect(throws: Killed.self) {
                _ = try builder.build(sourcePath: corpus.collection, next: {
                    guard given < 12 else { throw Killed() }
                    given += 1
                    return try source.nextRecord().map { SourcePassage(id: $0.record.id, text: $0.record.text, line: $0.line) }
                })
            }

        }

        let path = try interrupted.refresh(step: 2, saveModel: save(seed: 1))
        #expect(interrupted.lastReport?.resumedAfterPassages == 12)
        // The vectors are the uninterrupted refresh's (to rounding: the killed attempt encoded
        // in other batches), and every query got its negatives from them.
        func vectors(_ refresh: NegativeRefresh) throws -> [Float] {
            let store = try IndexFolder(path: refresh.folder(step: 2).appendingPathComponent("index").path, access: .readOnly).store
            var values = [Float](repeating: 0, count: 40 * TinyModel.configuration.hiddenSize)
            try values.withUnsafeMutableBufferPointer { try store.readVectors(0..<40, dimension: TinyModel.configuration.hiddenSize, into: $0.baseAddress!) }
            return values
        }
        let resumed = try vectors(interrupted), uninterrupted = try vectors(clean)
        #expect(zip(resumed, uninterrupted).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == expected.split(separator: "\n").count)
    }

    @Test func bm25NegativesAreNotRefreshed() throws {
        let corpus = try corpus()
        #expect(throws: (any Error).self) {
            try NegativeRefresh(directory: TinyModel.temporaryFolder(), collection: corpus.collection, queries: corpus.queries, qrels: corpus.qrels,
                                recipe: MiningRecipe(retriever: .bm25, options: HardNegativeMiner.Options()), encode: EncodeOptions())
        }
    }
}
