import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

/// Building, resuming, repairing and searching index folders, on a tiny random model.
@Suite struct IndexFolderTests {
    /// Distinct short "passages" from the tiny vocabulary, seeded.
    static let passages: [SourcePassage] = {
        var generator = SeededGenerator(seed: 11)
        var seen = Set<String>()
        var out: [SourcePassage] = []
        while out.count < 150 {
            let length = Int.random(in: 3...9, using: &generator)
            let text = (0..<length).map { _ in TinyModel.words[Int.random(in: 0..<10, using: &generator)] }.joined(separator: " ")
            guard seen.insert(text).inserted else { continue }
            out.append(SourcePassage(id: "p\(out.count)", text: text, line: out.count + 1))
        }
        return out
    }()

    struct Fixture {
        let encoder: SentenceEncoder
        let folder: IndexFolder
        let builder: IndexBuilder
    }

    func fixture(commitEvery: Int = 32, factory: String = "Flat", seed: UInt64 = 7) throws -> Fixture {
        let modelFolder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: seed))
        let encoder = try SentenceEncoder.load(directory: modelFolder)
        let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.commitEvery = commitEvery
        options.factory = factory
        let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
        return Fixture(encoder: encoder, folder: folder, builder: builder)
    }

    /// A reader over `passages` that fails (like a killed process) after `failAfter` of them.
    func reader(_ passages: [SourcePassage], failAfter: Int? = nil) -> () throws -> SourcePassage? {
        var position = 0
        return {
            if let failAfter, position == failAfter { throw CancellationError() }
            guard position < passages.count else { return nil }
            defer { position += 1 }
            return passages[position]
        }
    }

    func allVectors(_ folder: IndexFolder, dimension: Int) throws -> [Float] {
        let count = try folder.store.count()
        var out = [Float](repeating: 0, count: count * dimension)
        try out.withUnsafeMutableBufferPointer { try folder.store.readVectors(0..<count, dimension: dimension, into: $0.baseAddress!) }
        return out
    }

    @Test func searchFindsEachPassageByItsOwnText() throws {
        let f = try fixture()
        let report = try f.builder.build(next: reader(Self.passages))
        #expect(report.total == 150 && report.stored == 150)
        let searcher = try Searcher(folder: f.folder, log: { Issue.record("unexpected warning: \($0)") })
        let probes = [0, 17, 149]
        let results = try searcher.search(probes.map { Self.passages[$0].text }, k: 3, includeText: true)
        for (probe, hits) in zip(probes, results) {
            #expect(hits.first?.id == "p\(probe)")
            #expect(hits.first?.text == Self.passages[probe].text)
            #expect(abs((hits.first?.score ?? 0) - 1) < 1e-4)
            #expect(hits.map(\.rank) == [1, 2, 3])
        }
    }

    /// The crash-safety contract: a build interrupted mid-batch and run again ends with the
    /// same ids, the same vectors and the same search results as one that never stopped.
    @Test func interruptedBuildResumesToTheSameIndex() throws {
        let clean = try fixture()
        _ = try clean.builder.build(next: reader(Self.passages))

        let resumed = try fixture()
        #expect(throws: CancellationError.self) { try resumed.builder.build(next: reader(Self.passages, failAfter: 70)) }
        // Two whole batches of 32 were committed; the 6 passages of the third were in flight.
        #expect(try resumed.folder.store.count() == 64)
        #expect(try resumed.folder.store.progress().linesConsumed == 64)
        var logs: [String] = []
        let report = try resumed.builder.build(next: reader(Self.passages), log: { logs.append($0) })
        #expect(report.resumedAfterLine == 64 && report.stored == 86)
        #expect(logs.contains { $0.contains("resuming after line 64") })

        // The same passages in the same batches, but not always the same bits: other tests in
        // this process change OpenBLAS's process-wide thread count between the two builds, and
        // CI (another CPU, another OpenBLAS core) saw the last bits differ. A resume that stored
        // a wrong or shifted vector is off by far more than the tolerance.
        let dimension = clean.encoder.dimension
        let resumedVectors = try allVectors(resumed.folder, dimension: dimension)
        let cleanVectors = try allVectors(clean.folder, dimension: dimension)
        #expect(resumedVectors.count == cleanVectors.count)
        #expect(zip(resumedVectors, cleanVectors).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        let ids = Array(0..<150)
        #expect(try resumed.folder.store.passages(internalIds: ids).map { $0?.id } == clean.folder.store.passages(internalIds: ids).map { $0?.id })
        let queries = ["the cat sat", "big red dog ran"]
        let a = try Searcher(folder: clean.folder, log: { _ in }).search(queries, k: 5)
        let b = try Searcher(folder: resumed.folder, log: { _ in }).search(queries, k: 5)
        #expect(a.map { $0.map(\.id) } == b.map { $0.map(\.id) })
        #expect(zip(a.joined(), b.joined()).allSatisfy { abs($0.score - $1.score) < 1e-5 })
    }

    @Test func truncatedFaissFileIsRebuiltFromTheStore() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let data = try Data(contentsOf: URL(fileURLWithPath: f.folder.faissPath))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: f.folder.faissPath))
        var logs: [String] = []
        let index = try f.folder.openVectorIndex(log: { logs.append($0) })
        #expect(index.count == 150)
        #expect(logs.contains { $0.contains("truncated") && $0.contains("rebuilding") })
        // The rebuilt file is recorded: opening again is silent.
        _ = try f.folder.openVectorIndex(log: { Issue.record("unexpected warning: \($0)") })
        let hits = try Searcher(folder: f.folder, log: { _ in }).search([Self.passages[5].text], k: 1)
        #expect(hits[0].first?.id == "p5")
    }

    @Test func garbageOrMissingFaissFileIsRebuilt() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: f.folder.faissPath))
        var logs: [String] = []
        #expect(try f.folder.openVectorIndex(log: { logs.append($0) }).count == 150)
        #expect(logs.count == 1)
        try FileManager.default.removeItem(atPath: f.folder.faissPath)
        #expect(try f.folder.openVectorIndex(log: { logs.append($0) }).count == 150)
        #expect(logs.last?.contains("missing") == true)
    }

    /// A crash after a store commit but before the FAISS save leaves the file behind the store;
    /// opening adds the missing vectors instead of rebuilding.
    @Test func laggingFaissFileGetsTheMissingVectors() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Array(Self.passages.prefix(100))))
        let extra = Array(Self.passages[100...])
        let vectors = f.encoder.encode(extra.map(\.text))
        _ = try f.folder.store.append(extra.map { (id: $0.id, text: $0.text, origin: "t") }, vectors: vectors.values,
                                      dimension: vectors.dimension, policy: .error, progress: BuildProgress())
        var logs: [String] = []
        let index = try f.folder.openVectorIndex(log: { logs.append($0) })
        #expect(index.count == 150)
        #expect(logs.contains { $0.contains("covers 100 of 150") })
        #expect(try f.folder.store.indexRecord()?.covered == 150)
    }

    @Test(arguments: ["HNSW16", "IVF4,Flat", "PQ12x4np"])
    func rebuildAsAnotherIndexTypeWithoutReencoding(factory: String) throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let index = try f.folder.rebuild(factory: factory, metric: .innerProduct, log: { _ in })
        #expect(index.count == 150)
        #expect(try f.folder.manifest().factory == factory)
        let searcher = try Searcher(folder: f.folder, log: { Issue.record("unexpected warning: \($0)") })
        if factory.hasPrefix("IVF") { try searcher.index.setNProbe(4) }
        if factory.hasPrefix("HNSW") { try searcher.index.setEfSearch(64) }
        let hits = try searcher.search([Self.passages[42].text], k: 5)[0]
        #expect(Set(hits.map(\.id)).count == 5)
        if factory.hasPrefix("PQ") {
            // PQ is lossy, and the tiny random model's vectors are close together, so only
            // approximate scores are asked of it: near the exact maximum of 1.
            #expect(abs((hits.first?.score ?? 0) - 1) < 0.05, "\(hits)")
        } else {
            // HNSW with a large candidate list and IVF probing every list are exact here.
            #expect(hits.first?.id == "p42", "\(hits)")
        }
    }

    /// Training reads `--train-sample` vectors (recorded, so a later repair trains alike), by
    /// default 256 per IVF list within [100,000, 1,000,000].
    @Test func theTrainingSampleIsChosenAndRemembered() throws {
        #expect(FaissIndex.defaultTrainingSample(factory: "Flat") == 100_000)
        #expect(FaissIndex.defaultTrainingSample(factory: "IVF256,Flat") == 100_000)
        #expect(FaissIndex.defaultTrainingSample(factory: "IVF1024,PQ32") == 262_144)
        #expect(FaissIndex.defaultTrainingSample(factory: "OPQ48,IVF16384,PQ48") == 1_000_000)
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        var logs: [String] = []
        let index = try f.folder.rebuild(factory: "IVF4,Flat", metric: .innerProduct, trainSample: 20, log: { logs.append($0) })
        #expect(index.count == 150 && logs.contains("training \"IVF4,Flat\" on 20 of 150 vectors"), "\(logs)")
        #expect(try f.folder.manifest().trainSample == 20)
        // A repair (the FAISS file gone) trains on the recorded sample again.
        try FileManager.default.removeItem(atPath: f.folder.faissPath)
        logs = []
        _ = try f.folder.openVectorIndex(log: { logs.append($0) })
        #expect(logs.contains("training \"IVF4,Flat\" on 20 of 150 vectors"), "\(logs)")
    }

    /// `--mmap`: an IVF index's lists are mapped from its file and search the same; adding to
    /// it is refused; other index types, and an index file that lags the store, are read.
    @Test(arguments: ["IVF4,Flat", "IVF4,PQ12x4np", "HNSW16"])
    func mappedListsSearchAlike(factory: String) throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        try f.folder.rebuild(factory: factory, metric: .innerProduct, log: { _ in })
        let queries = ["the cat sat", "big red dog ran", "mat"]
        let knobs = SearchKnobs(nprobe: factory.hasPrefix("IVF") ? 2 : nil)
        let loaded = try Searcher(folder: f.folder, log: { Issue.record("unexpected: \($0)") }).search(queries, k: 10, knobs: knobs)
        var notes: [String] = []
        let searcher = try Searcher(folder: f.folder, mapped: true, log: { notes.append($0) })
        #expect(searcher.index.isMapped == factory.hasPrefix("IVF"))
        #expect(notes == (factory.hasPrefix("IVF") ? [] : ["note: --mmap maps the inverted lists of IVF indexes; \"HNSW16\" is read into memory"]))
        let mapped = try searcher.search(queries, k: 10, knobs: knobs)
        #expect(mapped == loaded)
        if searcher.index.isMapped {
            let vector = [Float](repeating: 0.1, count: 24), id: [Int64] = [999]
            #expect { try searcher.index.add(vector, count: 1, ids: id) } throws: { "\($0)".contains("memory-mapped read-only") }
        }
    }

    /// `--on-disk`: an IVF index's lists go to a file of their own beside the index file, are
    /// searched memory-mapped like the in-memory index, checked like the index file, and
    /// replaced whole by a rebuild (the old file removed).
    @Test func listsOnDiskSearchAlikeAndAreRebuiltWhole() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let queries = ["the cat sat", "big red dog ran", "mat"]
        let knobs = SearchKnobs(nprobe: 2)
        try f.folder.rebuild(factory: "IVF4,Flat", metric: .innerProduct, log: { _ in })
        let inMemory = try Searcher(folder: f.folder, log: { _ in }).search(queries, k: 10, knobs: knobs)
        func listFiles() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: f.folder.path).filter { $0.contains("ivfdata") }.sorted() }
        #expect(try listFiles().isEmpty)

        let built = try f.folder.rebuild(factory: "IVF4,Flat", metric: .innerProduct, onDisk: true, log: { if !$0.hasPrefix("training") { Issue.record("unexpected: \($0)") } })
        #expect(built.hasListsOnDisk && !built.isMapped)
        #expect(try built.search([Float](repeating: 0.2, count: 24), count: 1, k: 3, knobs: knobs).ids.count == 3)
        let record = try #require(try f.folder.store.indexRecord())
        #expect(try listFiles() == [record.dataFile ?? "?"] && record.dataSize ?? 0 > 0 && f.folder.manifest().onDisk == true)
        let searcher = try Searcher(folder: f.folder, log: { Issue.record("unexpected: \($0)") })
        #expect(searcher.index.isMapped)
        #expect(try searcher.search(queries, k: 10, knobs: knobs) == inMemory)
        #expect(try f.folder.verify().problemCount == 0)

        // A lists file cut short is found, and the index rebuilt (on disk again).
        let dataPath = f.folder.path + "/" + (record.dataFile ?? "")
        let data = try Data(contentsOf: URL(fileURLWithPath: dataPath))
        // Replaced, not rewritten in place: indexes above still map the old file (cutting a mapped file short is a SIGBUS for its readers).
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dataPath), options: .atomic)
        var logs: [String] = []
        let repaired = try f.folder.openVectorIndex(log: { logs.append($0) })
        #expect(logs.contains { $0.contains("is \(data.count / 2) bytes, \(data.count) recorded") }, "\(logs)")
        #expect(repaired.hasListsOnDisk && repaired.count == 150)
        #expect(try listFiles().count == 1 && Searcher(folder: f.folder, log: { _ in }).search(queries, k: 10, knobs: knobs) == inMemory)

        // Back in memory: the lists file goes.
        try f.folder.rebuild(factory: "IVF4,Flat", metric: .innerProduct, onDisk: false, log: { _ in })
        #expect(try listFiles().isEmpty && f.folder.store.indexRecord()?.dataFile == nil)
        #expect(try Searcher(folder: f.folder, log: { _ in }).search(queries, k: 10, knobs: knobs) == inMemory)
    }

    @Test func anotherModelIsRefusedForBuildingAndSearching() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let otherFolder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 99))
        #expect { try Searcher(folder: f.folder, model: otherFolder, log: { _ in }) } throws: { error in
            guard case let .mismatch(_, reason) = error as? StoreError else { return false }
            return reason.contains("differs from the index's model")
        }
        let other = try SentenceEncoder.load(directory: otherFolder)
        #expect(throws: StoreError.self) { try f.builder.prepare(source: "/corpus.tsv", format: "msmarco", model: other.identity()) }
        // The store is untouched by the refusals.
        #expect(try f.folder.store.count() == 150)
    }

    /// The same weights with another tokenizer setting or vocabulary make other vectors: the
    /// model identity covers them, so such a model cannot query or extend the index.
    @Test func theSameWeightsWithAnotherTokenizerAreRefused() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let original = try #require(f.encoder.directory)
        #expect(throws: Never.self) { try Searcher(folder: f.folder, model: original, log: { _ in }) }
        for change in ["cased", "vocabulary"] {
            let copy = try TinyModel.temporaryFolder().appendingPathComponent("copy")
            try FileManager.default.copyItem(at: original, to: copy)
            if change == "cased" {
                try #"{"do_lower_case": false}"#.write(to: copy.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
            } else {
                var vocabulary = TinyModel.vocabulary
                vocabulary.swapAt(6, 7)
                try (vocabulary.joined(separator: "\n") + "\n").write(to: copy.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
            }
            #expect { try Searcher(folder: f.folder, model: copy, log: { _ in }) } throws: { "\($0)".contains("configuration or tokenizer") }
            let other = try SentenceEncoder.load(directory: copy)
            #expect { try f.builder.prepare(source: "/corpus.tsv", format: "msmarco", model: other.identity()) } throws: { "\($0)".contains("configuration or tokenizer") }
        }
    }

    @Test func aModelOfAnotherDimensionIsRefused() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let narrow = BertConfiguration(vocabularySize: 40, hiddenSize: 16, layerCount: 1, headCount: 2, intermediateSize: 32, maxPositions: 32)
        let narrowFolder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(configuration: narrow))
        #expect { try Searcher(folder: f.folder, model: narrowFolder, log: { _ in }) } throws: { "\($0)".contains("dimension 16") && "\($0)".contains("dimension 24") }
    }

    @Test func resumingWithAnotherCorpusIsRefused() throws {
        let f = try fixture()
        _ = try? f.builder.build(next: reader(Self.passages, failAfter: 40))
        #expect(try f.folder.store.count() == 32)
        #expect(throws: StoreError.self) { try f.builder.prepare(source: "/other.tsv", format: "msmarco", model: f.encoder.identity()) }
    }

    /// A first build that failed before its first commit leaves nothing that ties the folder to
    /// its corpus: the next build may name another one (and another factory).
    @Test func aStoreWithNothingCommittedTakesAnotherCorpus() throws {
        let f = try fixture()
        _ = try? f.builder.build(next: reader(Self.passages, failAfter: 10))
        #expect(try f.folder.store.count() == 0)
        var options = f.builder.options
        options.factory = "HNSW8"
        let builder = IndexBuilder(folder: f.folder, encoder: f.encoder, options: options)
        let manifest = try builder.prepare(source: "/other.tsv", format: "msmarco", model: f.encoder.identity())
        #expect(manifest.source == "/other.tsv" && manifest.factory == "HNSW8")
        #expect(try builder.build(next: reader(Self.passages)).total == 150)
    }

    /// Re-running a finished build with another factory keeps the built one and says so.
    @Test func anotherFactoryOnAFinishedBuildIsIgnoredAndSaid() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        var options = f.builder.options
        options.factory = "HNSW8"
        var said: [String] = []
        let manifest = try IndexBuilder(folder: f.folder, encoder: f.encoder, options: options)
            .prepare(source: "/corpus.tsv", format: "msmarco", model: f.encoder.identity(), log: { said.append($0) })
        #expect(manifest.factory == "Flat")
        #expect(said.count == 1 && said[0].contains("ignored") && said[0].contains("index rebuild"))
    }

    /// A killed build resumed over a corpus whose stored lines changed stops before storing
    /// anything more; over the same corpus with lines appended it goes on.
    @Test func resumingOverAChangedCorpusIsRefused() throws {
        let f = try fixture()
        _ = try? f.builder.build(next: reader(Self.passages, failAfter: 70))
        #expect(try f.folder.store.count() == 64)
        var changed = Self.passages
        changed[3].text += " edited"
        #expect { try f.builder.build(next: reader(changed)) } throws: { "\($0)".contains("lines 1-64") && "\($0)".contains("changed") }
        #expect { try f.builder.build(next: reader(Array(Self.passages.prefix(50)))) } throws: { "\($0)".contains("ends at line 50") }
        #expect(try f.folder.store.count() == 64)
        #expect(try f.builder.build(next: reader(Self.passages)).total == 150)
        // Finished, then the corpus grows: the new lines are added after the same check.
        let grown = Self.passages + [SourcePassage(id: "extra", text: "alpha beta", line: 151)]
        #expect(try f.builder.build(next: reader(grown)).total == 151)
    }

    @Test func aBuildThatStoresNothingIsAnError() throws {
        let f = try fixture()
        #expect { try f.builder.build(sourcePath: "empty.tsv", next: reader([])) } throws: { "\($0)".contains("empty.tsv: no passage was stored") }
    }

    /// One writer at a time: a second writer is refused with the first one's PID, a reader is
    /// told that the index is being built.
    @Test func aSecondWriterIsRefusedWithThePID() throws {
        let f = try fixture()
        #expect { try IndexFolder(path: f.folder.path, access: .readWrite) } throws: { "\($0)".contains("being built by PID \(getpid())") }
        let reader = try IndexFolder(path: f.folder.path, access: .readRepairingIfWritable)
        #expect(reader.beingBuiltBy == getpid() && reader.readOnly)
    }

    /// A byte flipped in a stored vector is found by `verify` with the passage id, and `rebuild`
    /// refuses to index it; the clean store verifies with no problem.
    @Test func aFlippedVectorByteIsFoundAndNeverIndexed() throws {
        let f = try fixture()
        _ = try f.builder.build(next: reader(Self.passages))
        let clean = try f.folder.verify()
        #expect(clean.records == 150 && clean.checksummed == 150 && clean.problemCount == 0, "\(clean.problems)")

        // Find vector 7's bytes in the data file (small values sit inline in LMDB's pages).
        var vector = [Float](repeating: 0, count: 24)
        try vector.withUnsafeMutableBufferPointer { try f.folder.store.readVectors(7..<8, dimension: 24, into: $0.baseAddress!) }
        let dataURL = URL(fileURLWithPath: f.folder.path + "/store/data.mdb")
        var data = try Data(contentsOf: dataURL)
        let bytes = vector.withUnsafeBytes { Data($0) }
        let found = try #require(data.range(of: bytes))
        data[found.lowerBound + 9] ^= 0x10
        try data.write(to: dataURL)

        let folder = try IndexFolder(path: f.folder.path, access: .readOnly)
        let damaged = try folder.verify()
        #expect(damaged.problemCount == 1 && damaged.problems.first?.contains("passage 'p7' (internal id 7)") == true, "\(damaged.problems)")
        var all = [Float](repeating: 0, count: 150 * 24)
        #expect { try all.withUnsafeMutableBufferPointer { try folder.store.readVectors(0..<150, dimension: 24, into: $0.baseAddress!) } } throws: {
            "\($0)".contains("passage 'p7'") && "\($0)".contains("checksum")
        }
    }
}
