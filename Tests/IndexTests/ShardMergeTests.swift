import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

/// Sharded builds and `index merge`: 4 shards merged equal one build of the whole collection
/// (ids, vectors, search results); a killed shard build and a killed merge resume; folders of
/// another model, overlapping folders, a partial set of shards and an unfinished build are
/// refused with the folders named.
@Suite struct ShardMergeTests {
    static let passages = IndexFolderTests.passages

    @Test func shardSizesMatchCounting() {
        for passages in [0, 1, 15, 16, 17, 63, 64, 65, 150, 1_000] {
            for count in 1...5 {
                for blockSize in [1, 4, 16] {
                    for index in 0..<count {
                        let shard = ShardSpec(index: index, count: count, blockSize: blockSize)
                        #expect(shard.passages(of: passages) == (0..<passages).filter { shard.contains(ordinal: $0) }.count, "\(shard) blocks \(blockSize) of \(passages)")
                    }
                }
            }
        }
    }

    static let model: URL = {
        do { return try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 7)) } catch { fatalError("fixture: \(error)") }
    }()

    /// A folder built from `passages` (whole, or one shard in blocks of 16), commits of 8.
    func build(_ passages: [SourcePassage] = Self.passages, shard: ShardSpec? = nil, model: URL = Self.model, failAfter: Int? = nil,
               into path: String? = nil) throws -> IndexFolder {
        let encoder = try SentenceEncoder.load(directory: model)
        let folder = try IndexFolder(path: path ?? TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.commitEvery = 8
        options.shard = shard
        let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
        _ = try builder.build(next: IndexFolderTests().reader(passages, failAfter: failAfter))
        return folder
    }

    func shards(_ count: Int = 4) throws -> [IndexFolder] {
        try (0..<count).map { try build(shard: ShardSpec(index: $0, count: count, blockSize: 16)) }
    }

    func readOnly(_ folders: [IndexFolder]) throws -> [IndexFolder] { try folders.map { try IndexFolder(path: $0.path, access: .readOnly) } }

    func expectSame(_ merged: IndexFolder, as whole: IndexFolder) throws {
        let ids = Array(0..<150)
        #expect(try merged.store.count() == 150)
        #expect(try merged.store.passages(internalIds: ids).map { $0?.id } == whole.store.passages(internalIds: ids).map { $0?.id })
        #expect(try merged.store.passages(internalIds: ids).map { $0?.text } == whole.store.passages(internalIds: ids).map { $0?.text })
        let a = try IndexFolderTests().allVectors(merged, dimension: 24), b = try IndexFolderTests().allVectors(whole, dimension: 24)
        #expect(a.count == b.count && zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        let queries = ["the cat sat", "big red dog ran", "mat"]
        let x = try Searcher(folder: merged, log: { _ in }).search(queries, k: 5)
        let y = try Searcher(folder: whole, log: { _ in }).search(queries, k: 5)
        #expect(x.map { $0.map(\.id) } == y.map { $0.map(\.id) })
        // BM25 came along.
        #expect(try merged.store.lexicalStatistics() == whole.store.lexicalStatistics())
    }

    @Test func fourShardsMergedAreOneBuild() throws {
        let whole = try build()
        let parts = try shards()
        #expect(try parts.map { try $0.store.count() } == [48, 38, 32, 32])  // blocks 0,4,8 | 1,5,9 | 2,6 | 3,7 (150 = 9 x 16 + 6)
        #expect(try parts.allSatisfy { try $0.store.progress().complete && $0.manifest().shard != nil })
        // Given in any order.
        let merge = try IndexMerge(sources: readOnly([parts[2], parts[0], parts[3], parts[1]]))
        #expect(merge.interleaved && merge.total == 150)
        let merged = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        try merge.run(into: merged, commitEvery: 7)
        try expectSame(merged, as: whole)
        #expect(try merged.store.progress().complete && merged.manifest().mergedFrom?.count == 4)
    }

    /// Searching the 4 shards together ranks like searching their merge (or the whole build).
    @Test func fourShardsSearchedTogetherAreTheirMerge() throws {
        let whole = try build()
        let parts = try shards()
        let queries = ["the cat sat", "big red dog ran", "mat", "on a dog", "red"]
        for k in [1, 5, 40] {
            let together = try Searcher(folders: parts.reversed(), log: { _ in }).search(queries, k: k, includeText: true)
            let one = try Searcher(folder: whole, log: { _ in }).search(queries, k: k, includeText: true)
            #expect(together.map { $0.map(\.id) } == one.map { $0.map(\.id) }, "k \(k)")
            #expect(together.map { $0.map(\.rank) } == one.map { $0.map(\.rank) } && together.map { $0.map(\.text) } == one.map { $0.map(\.text) })
            #expect(zip(together.joined(), one.joined()).allSatisfy { abs($0.score - $1.score) < 1e-5 })
        }
        let otherModel = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 8))
        #expect { try Searcher(folders: [parts[0], build(model: otherModel)], log: { _ in }) } throws: { "\($0)".contains("their scores do not compare") }
    }

    @Test func killedShardBuildAndKilledMergeResume() throws {
        let whole = try build()
        var parts = try shards()
        // Shard 1 killed after 70 passages read (its blocks 1 and 5 partly stored), then run again.
        let path = parts[1].path + "-again"
        #expect(throws: CancellationError.self) { try build(shard: ShardSpec(index: 1, count: 4, blockSize: 16), failAfter: 70, into: path) }
        let stored = try IndexFolder(path: path, access: .readOnly).store.count()
        #expect(stored > 0 && stored < 38)
        parts[1] = try build(shard: ShardSpec(index: 1, count: 4, blockSize: 16), into: path)
        #expect(try parts[1].store.count() == 38)
        // The merge killed at its third commit, then run again.
        let merge = try IndexMerge(sources: readOnly(parts))
        let merged = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var commits = 0
        #expect(throws: CancellationError.self) {
            try merge.run(into: merged, commitEvery: 10, progress: { _ in
                commits += 1
                if commits == 3 { throw CancellationError() }
            })
        }
        // Commits of 10 within blocks of 16: 10, 16, 26.
        #expect(try merged.store.count() == 26 && !merged.store.progress().complete)
        var logs: [String] = []
        try IndexMerge(sources: readOnly(parts)).run(into: merged, commitEvery: 10, log: { logs.append($0) })
        #expect(logs.contains("resuming after 26 merged passages"))
        try expectSame(merged, as: whole)
        // Another merge into it is refused.
        #expect { try IndexMerge(sources: readOnly([build(Array(Self.passages.prefix(10)))])).run(into: merged) } throws: { "\($0)".contains("already holds another index") }
    }

    /// Vectors from the encoder, but the build dies once when the collection has been read
    /// (after the last batch is stored, before the build is marked complete).
    final class DiesAtTheEnd: PassageVectorSource {
        let encoded: EncodedPassages
        var died = false
        init(_ encoder: SentenceEncoder) { encoded = EncodedPassages(encoder: encoder, options: EncodeOptions()) }
        var dimension: Int { encoded.dimension }
        func vectors(for passages: [SourcePassage], ordinals: [Int], sourcePath: String) throws -> [Float] {
            encoded.vectors(for: passages, ordinals: ordinals, sourcePath: sourcePath)
        }
        func finish(passages: Int, sourcePath: String) throws {
            if !died {
                died = true
                throw CancellationError()
            }
        }
    }

    /// A shard whose last passage is not the collection's last line, killed after its last
    /// commit, resumes (the lines after its last passage were read and checksummed too).
    @Test func aShardKilledAfterItsLastCommitResumes() throws {
        let encoder = try SentenceEncoder.load(directory: Self.model)
        let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.commitEvery = 8
        options.shard = ShardSpec(index: 2, count: 4, blockSize: 16)  // blocks 2 and 6: its last passage is on line 112 of 150
        let builder = IndexBuilder(folder: folder, vectors: DiesAtTheEnd(encoder), options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
        #expect(throws: CancellationError.self) { try builder.build(next: IndexFolderTests().reader(Self.passages)) }
        #expect(try folder.store.count() == 32 && !folder.store.progress().complete)
        _ = try builder.build(next: IndexFolderTests().reader(Self.passages))
        #expect(try folder.store.progress().complete && folder.store.count() == 32)
    }

    @Test func wholeFoldersAreConcatenatedInTheOrderGiven() throws {
        let first = try build(Array(Self.passages.prefix(100)))
        let second = try build(Array(Self.passages.suffix(50)))
        let merge = try IndexMerge(sources: readOnly([second, first]))
        #expect(!merge.interleaved)
        let merged = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        try merge.run(into: merged)
        #expect(try merged.store.passages(internalIds: Array(0..<150)).map { $0?.id } == (Self.passages.suffix(50) + Self.passages.prefix(100)).map(\.id))
    }

    @Test func mergesThatCannotBeRightAreRefused() throws {
        let parts = try shards(2)
        func refusal(_ folders: [IndexFolder], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(sourceLocation: sourceLocation) {
                try IndexMerge(sources: readOnly(folders)).run(into: IndexFolder(path: TinyModel.temporaryFolder().path, create: true))
            } throws: { "\($0)".contains(message) }
        }
        try refusal([parts[0]], "shard 1/2 of /corpus.tsv is missing")
        try refusal([parts[0], parts[0]], "are both shard 0/2")
        try refusal([parts[0], build()], "is not a shard, the others are")
        let otherModel = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 8))
        try refusal([build(Array(Self.passages.prefix(10))), build(Array(Self.passages.suffix(10)), model: otherModel)], "vectors of two models cannot be merged")
        // Overlapping passages: the second folder's first passage is the first's 91st.
        let first = try build(Array(Self.passages.prefix(100)))
        let overlapping = try build(Array(Self.passages.suffix(60)))
        try refusal([first, overlapping], "(internal id 0): passage id 'p90' is also in \(first.path)")
        // An unfinished build.
        let unfinished = try TinyModel.temporaryFolder().path
        #expect(throws: CancellationError.self) { try build(failAfter: 20, into: unfinished) }
        try refusal([first, IndexFolder(path: unfinished, access: .readOnly)], "its build is not complete")
        // A shard that cannot hold a passage, and a shard build that would skip duplicates.
        #expect { try build(Array(Self.passages.prefix(20)), shard: ShardSpec(index: 2, count: 3, blockSize: 16)) } throws: {
            "\($0)".contains("shard 2/3 holds no passage: the collection's 20 passages make 2 blocks of 16")
        }
    }
}
