import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

/// `densekit index build` / `search` as a user runs them, including being killed, bad input
/// and a damaged index file, on the real model and real passages from corpora/.
@Suite(.serialized) struct IndexCommandTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../corpora/debian-pkg-sample/collection.tsv").standardizedFileURL.path

    /// The first `count` lines of the sample collection, in a file of their own.
    func corpus(_ count: Int, badLineAt: Int? = nil) throws -> String {
        let lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n").prefix(count).enumerated().map { i, line in
            i + 1 == badLineAt ? "this line has no tab" : String(line)
        }
        return try CommandRunner.temporaryFile(Array((lines.joined(separator: "\n") + "\n").utf8), name: "collection.tsv")
    }

    func build(_ index: String, _ collection: String, _ extra: [String] = []) throws -> CommandRunner.Result {
        try CommandRunner.run(["index", "build", "--model", CommandRunner.modelPath, "--index", index, "--collection", collection,
                               "--commit-every", "64", "--quiet"] + extra)
    }

    func vectorsAndIds(_ index: String) throws -> ([Float], [String?]) {
        let store = try EmbeddingStore(path: index + "/store", readOnly: true)
        let count = try store.count()
        var vectors = [Float](repeating: 0, count: count * 384)
        try vectors.withUnsafeMutableBufferPointer { try store.readVectors(0..<count, dimension: 384, into: $0.baseAddress!) }
        return (vectors, try store.passages(internalIds: Array(0..<count), includeText: false).map { $0?.id })
    }

    func searchJSON(_ index: String, _ query: String, _ extra: [String] = []) throws -> (ids: [String], stderr: String) {
        let result = try CommandRunner.run(["search", "--index", index, "-k", "5", "--json", query] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        let hits = object?["hits"] as? [[String: Any]] ?? []
        return (hits.compactMap { $0["id"] as? String }, result.stderr)
    }

    @Test func buildKilledWithSIGKILLResumesToTheIdenticalIndex() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath): run scripts/fetch-model.sh"); return }
        let collection = try corpus(400)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        let clean = folder + "/clean", killed = folder + "/killed"
        #expect(try build(clean, collection).status == 0)

        // Start a build and kill it once some batches are committed, before it finishes.
        let landed = try CommandRunner.killWhen(["index", "build", "--model", CommandRunner.modelPath, "--index", killed, "--collection", collection,
                                             "--commit-every", "64", "--quiet", "--threads", "1"], poll: 0.05) {
            ((try? EmbeddingStore(path: killed + "/store", readOnly: true).count()) ?? 0) >= 128
        }
        #expect(landed, "the build finished before it could be killed")
        let partial = try EmbeddingStore(path: killed + "/store", readOnly: true).count()
        #expect(partial >= 128 && partial < 400 && partial % 64 == 0)

        let resumed = try build(killed, collection)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let (cleanVectors, cleanIds) = try vectorsAndIds(clean)
        let (resumedVectors, resumedIds) = try vectorsAndIds(killed)
        #expect(cleanIds.count == 400)
        #expect(resumedIds == cleanIds)
        #expect(resumedVectors == cleanVectors)
        let query = "Library for accessing the Akismet API"
        #expect(try searchJSON(killed, query).ids == searchJSON(clean, query).ids)
    }

    @Test func malformedLineStopsWithFileAndLineAndKeepsWhatWasStored() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(150, badLineAt: 100)
        let index = URL(fileURLWithPath: collection).deletingLastPathComponent().path + "/index"
        let failed = try build(index, collection)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("\(collection):100:") && failed.stderr.contains("no tab"), "\(failed.stderr)")
        #expect(try EmbeddingStore(path: index + "/store", readOnly: true).count() == 64)

        let skipping = try build(index, collection, ["--skip-bad-lines"])
        #expect(skipping.status == 0, "\(skipping.stderr)")
        #expect(skipping.stdout.contains("149 passages") && skipping.stdout.contains("1 bad lines skipped"), "\(skipping.stdout)")
        #expect(skipping.stderr.contains("\(collection):100:"))
    }

    @Test func duplicateIdsAreRefusedOrSkipped() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try CommandRunner.temporaryFile(Array("a\tfirst passage\nb\tsecond passage\na\tthird passage\n".utf8), name: "dup.tsv")
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        let refused = try build(folder + "/refused", collection)
        #expect(refused.status != 0 && refused.stderr.contains("duplicate id 'a'") && refused.stderr.contains("\(collection):3:"), "\(refused.stderr)")
        let skipped = try build(folder + "/skipped", collection, ["--on-duplicate", "skip"])
        #expect(skipped.status == 0 && skipped.stdout.contains("2 passages"), "\(skipped.stdout) \(skipped.stderr)")
    }

    /// `index import` of `embed --format npy`'s rows (the collection's order) and of
    /// `index export`'s rows reversed with their ids gives the index `index build` makes.
    @Test func importedVectorsGiveTheBuiltIndex() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(100)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        #expect(try build(folder + "/built", collection).status == 0)
        let (builtVectors, builtIds) = try vectorsAndIds(folder + "/built")
        let query = "library for image formats"
        let builtHits = try searchJSON(folder + "/built", query).ids

        // Rows in the collection's order, from `embed`.
        let embed = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--tsv", "--format", "npy", "-o", folder + "/e.npy", "--quiet", collection])
        #expect(embed.status == 0, "\(embed.stderr)")
        let imported = try CommandRunner.run(["index", "import", "--model", CommandRunner.modelPath, "--index", folder + "/embedded", "--collection", collection,
                                              "--vectors", folder + "/e.npy", "--commit-every", "64", "--quiet"])
        #expect(imported.status == 0 && imported.stdout.contains("100 passages (100 new); read vectors"), "\(imported.stdout)\(imported.stderr)")
        let (embeddedVectors, embeddedIds) = try vectorsAndIds(folder + "/embedded")
        #expect(embeddedIds == builtIds && zip(embeddedVectors, builtVectors).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        #expect(try searchJSON(folder + "/embedded", query).ids == builtHits)
        #expect(try CommandRunner.run(["index", "info", "--index", folder + "/embedded"]).stdout.contains("passages  100"))

        // Rows in another order with their ids, from `export`.
        #expect(try CommandRunner.run(["index", "export", "--index", folder + "/built", "-o", folder + "/x.npy", "--ids", folder + "/x.ids"]).status == 0)
        let exported = try NpyMatrixFile(path: folder + "/x.npy")
        let rows = try exported.read(rows: 0..<exported.rows)
        let reversed = (0..<exported.rows).reversed().flatMap { rows[($0 * 384)..<(($0 + 1) * 384)] }
        try NpyMatrixFile.write(reversed, rows: exported.rows, columns: 384, to: folder + "/r.npy")
        let ids = try String(contentsOfFile: folder + "/x.ids", encoding: .utf8).split(separator: "\n").reversed().joined(separator: "\n") + "\n"
        try ids.write(toFile: folder + "/r.ids", atomically: true, encoding: .utf8)
        let withIds = try CommandRunner.run(["index", "import", "--model", CommandRunner.modelPath, "--index", folder + "/reordered", "--collection", collection,
                                             "--vectors", folder + "/r.npy", "--ids", folder + "/r.ids", "--quiet"])
        #expect(withIds.status == 0, "\(withIds.stderr)")
        let (reorderedVectors, reorderedIds) = try vectorsAndIds(folder + "/reordered")
        #expect(reorderedIds == builtIds && reorderedVectors == builtVectors)
        #expect(try searchJSON(folder + "/reordered", query).ids == builtHits)

        // Vectors of another collection, and a line skipped without ids, are refused.
        let longer = try corpus(101)
        let refused = try CommandRunner.run(["index", "import", "--model", CommandRunner.modelPath, "--index", folder + "/refused", "--collection", longer,
                                             "--vectors", folder + "/e.npy", "--quiet"])
        #expect(refused.status != 0 && refused.stderr.contains("e.npy has 100 rows, but \(longer) has more passages (line 101"), "\(refused.stderr)")
        let skipping = try CommandRunner.run(["index", "import", "--model", CommandRunner.modelPath, "--index", folder + "/refused", "--collection", collection,
                                              "--vectors", folder + "/e.npy", "--skip-bad-lines"])
        #expect(skipping.status != 0 && skipping.stderr.contains("--skip-bad-lines needs --ids"), "\(skipping.stderr)")
    }

    /// Three shards built apart and merged search like one build of the whole collection.
    @Test func shardsMergedAreOneBuild() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(100)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        #expect(try build(folder + "/whole", collection).status == 0)
        for shard in 0..<3 {
            let result = try build(folder + "/shard\(shard)", collection, ["--shard", "\(shard)/3", "--shard-block", "16"])
            #expect(result.status == 0 && result.stdout.contains("(shard \(shard)/3)"), "\(result.stdout)\(result.stderr)")
        }
        let merge = try CommandRunner.run(["index", "merge", "--into", folder + "/merged", folder + "/shard2", folder + "/shard0", folder + "/shard1", "--quiet"])
        #expect(merge.status == 0 && merge.stdout.contains("100 passages from 3 folders (shards interleaved"), "\(merge.stdout)\(merge.stderr)")
        let (wholeVectors, wholeIds) = try vectorsAndIds(folder + "/whole")
        let (mergedVectors, mergedIds) = try vectorsAndIds(folder + "/merged")
        #expect(mergedIds == wholeIds && zip(mergedVectors, wholeVectors).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        for query in ["library for image formats", "web server"] {
            let wholeIds = try searchJSON(folder + "/whole", query).ids
            #expect(try searchJSON(folder + "/merged", query).ids == wholeIds)
            // The shards searched together, unmerged.
            #expect(try searchJSON(folder + "/shard0", query, ["--index", folder + "/shard1", "--index", folder + "/shard2"]).ids == wholeIds)
        }
        let bm25 = try CommandRunner.run(["search", "--index", folder + "/shard0", "--index", folder + "/shard1", "--retriever", "bm25", "cat"])
        #expect(bm25.status != 0 && bm25.stderr.contains("searches one folder"), "\(bm25.stderr)")
        let partial = try CommandRunner.run(["index", "merge", "--into", folder + "/partial", folder + "/shard0", folder + "/shard1"])
        #expect(partial.status != 0 && partial.stderr.contains("shard 2/3 of") && partial.stderr.contains("is missing"), "\(partial.stderr)")
        let badShard = try build(folder + "/bad", collection, ["--shard", "3/3"])
        #expect(badShard.status != 0 && badShard.stderr.contains("--shard"), "\(badShard.stderr)")
        let skipping = try build(folder + "/bad", collection, ["--shard", "0/3", "--on-duplicate", "skip"])
        #expect(skipping.status != 0 && skipping.stderr.contains("--shard needs --on-duplicate error"), "\(skipping.stderr)")
    }

    /// An import killed with SIGKILL mid-way and run again ends with the index of an
    /// uninterrupted import (20,000 random unit vectors, commits of 16 so that it runs long
    /// enough to be killed).
    @Test func importKilledWithSIGKILLResumesToTheIdenticalIndex() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let count = 20_000
        var generator = SeededGenerator(seed: 9)
        var vectors = [Float](repeating: 0, count: count * 384)
        for row in 0..<count {
            var norm: Float = 0
            for j in 0..<384 {
                let x = Float.random(in: -1...1, using: &generator)
                vectors[row * 384 + j] = x
                norm += x * x
            }
            for j in 0..<384 { vectors[row * 384 + j] /= norm.squareRoot() }
        }
        let collection = try CommandRunner.temporaryFile(Array((0..<count).map { "d\($0)\tpassage number \($0)\n" }.joined().utf8), name: "many.tsv")
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        try NpyMatrixFile.write(vectors, rows: count, columns: 384, to: folder + "/many.npy")
        func arguments(_ index: String) -> [String] {
            ["index", "import", "--model", CommandRunner.modelPath, "--index", index, "--collection", collection, "--vectors", folder + "/many.npy",
             "--commit-every", "16", "--no-bm25", "--quiet"]
        }
        #expect(try CommandRunner.run(arguments(folder + "/clean")).status == 0)

        let landed = try CommandRunner.killWhen(arguments(folder + "/killed")) {
            ((try? EmbeddingStore(path: folder + "/killed/store", readOnly: true).count()) ?? 0) >= 512
        }
        #expect(landed, "the import finished before it could be killed")
        let partial = try EmbeddingStore(path: folder + "/killed/store", readOnly: true).count()
        #expect(partial >= 512 && partial < count && partial % 16 == 0)

        let resumed = try CommandRunner.run(arguments(folder + "/killed"))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        func contents(_ path: String) throws -> ([Float], [String?]) {
            let opened = try EmbeddingStore(path: path + "/store", readOnly: true)
            var out = [Float](repeating: 0, count: try opened.count() * 384)
            try out.withUnsafeMutableBufferPointer { try opened.readVectors(0..<count, dimension: 384, into: $0.baseAddress!) }
            return (out, try opened.passages(internalIds: Array(0..<count), includeText: false).map { $0?.id })
        }
        let (cleanVectors, cleanIds) = try contents(folder + "/clean")
        let (resumedVectors, resumedIds) = try contents(folder + "/killed")
        #expect(cleanIds.count == count && resumedIds == cleanIds && resumedVectors == cleanVectors && cleanVectors == vectors)
    }

    /// `--on-disk`: the lists file sits beside the index file, and FAISS's messages about it
    /// stay out of standard output (the summary line alone; search's JSON parses).
    @Test func listsOnDiskKeepStandardOutputClean() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(100)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        let built = try build(folder + "/ondisk", collection, ["--factory", "IVF4,Flat", "--on-disk"])
        #expect(built.status == 0 && built.stdout.split(separator: "\n").count == 1, "\(built.stdout)\(built.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/ondisk").filter { $0.hasSuffix(".ivfdata") }.count == 1)
        let plain = try build(folder + "/plain", collection, ["--factory", "IVF4,Flat"])
        // An index that trains says how long training took, apart from the rest of FAISS's time.
        #expect(plain.status == 0 && plain.stdout.contains(#/FAISS "IVF4,Flat" [0-9.]+ s \(training [0-9.]+ s\)/#), "\(plain.stdout)")
        // --quiet silences densekit's status line about training (FAISS's own warning that 100
        // points are few for 4 centroids is printed by the library itself); without it, the line is there.
        #expect(!plain.stderr.contains("training \""), "\(plain.stderr)")
        let rebuilt = try CommandRunner.run(["index", "rebuild", "--index", folder + "/plain"])
        #expect(rebuilt.status == 0 && rebuilt.stderr.contains("training \"IVF4,Flat\" on 100 of 100 vectors"), "\(rebuilt.stderr)")
        for mmap in [[], ["--mmap"]] {
            let query = "library for image formats"
            #expect(try searchJSON(folder + "/ondisk", query, ["--nprobe", "4"] + mmap).ids == searchJSON(folder + "/plain", query, ["--nprobe", "4"]).ids)
        }
    }

    @Test func truncatedFaissFileIsRebuiltWithAWarningAndSearchStillWorks() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(120)
        let index = URL(fileURLWithPath: collection).deletingLastPathComponent().path + "/index"
        #expect(try build(index, collection).status == 0)
        let query = "Go client library for Akismet"
        let before = try searchJSON(index, query)
        #expect(before.stderr.isEmpty)
        let faiss = URL(fileURLWithPath: index + "/faiss.index")
        let data = try Data(contentsOf: faiss)
        try data.prefix(1000).write(to: faiss)
        let after = try searchJSON(index, query)
        #expect(after.ids == before.ids)
        #expect(after.stderr.contains("warning") && after.stderr.contains("rebuilding"), "\(after.stderr)")
    }

    @Test func searchRefusesAnotherModel() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(20)
        let index = URL(fileURLWithPath: collection).deletingLastPathComponent().path + "/index"
        #expect(try build(index, collection).status == 0)
        let tiny = try TinyModel.writeFolder(at: TinyModel.temporaryFolder())
        let result = try CommandRunner.run(["search", "--index", index, "--model", tiny.path, "anything"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("differs from the index's model") && result.stderr.contains("dimension 24"), "\(result.stderr)")
    }

    @Test func batchSearchWritesRunFiles() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let collection = try corpus(60)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        #expect(try build(folder + "/index", collection).status == 0)
        let queries = try CommandRunner.temporaryFile(Array("q1\tweb server\nq2\timage library\n".utf8), name: "queries.tsv")
        let msmarco = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", queries, "-k", "7", "--quiet"])
        #expect(msmarco.status == 0, "\(msmarco.stderr)")
        let lines = msmarco.stdout.split(separator: "\n").map { $0.split(separator: "\t") }
        #expect(lines.count == 14 && lines.allSatisfy { $0.count == 3 })
        #expect(lines.prefix(7).map { $0[2] } == ["1", "2", "3", "4", "5", "6", "7"] && lines[7][0] == "q2")
        let trec = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", queries, "-k", "3", "--format", "trec", "--tag", "t1", "--quiet"])
        let fields = trec.stdout.split(separator: "\n").first?.split(separator: " ") ?? []
        #expect(fields.count == 6 && fields[0] == "q1" && fields[1] == "Q0" && fields[3] == "1" && fields[5] == "t1", "\(trec.stdout)")

        // Query vectors made beforehand (embed's .npy, rows in the file's order) give the same run as the texts.
        let npy = folder + "/queries.npy"
        let embed = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--tsv", queries, "--format", "npy", "-o", npy, "--quiet"])
        #expect(embed.status == 0, "\(embed.stderr)")
        let fromVectors = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", queries, "--query-vectors", npy, "-k", "7", "--quiet"])
        #expect(fromVectors.status == 0 && fromVectors.stdout == msmarco.stdout, "\(fromVectors.stdout)\(fromVectors.stderr)")
        let oneQuery = try CommandRunner.temporaryFile(Array("q1\tweb server\n".utf8), name: "one.tsv")
        let rows = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", oneQuery, "--query-vectors", npy, "--quiet"])
        #expect(rows.status != 0 && rows.stderr.contains("\(npy) has 2 rows, but \(oneQuery) has 1 queries"), "\(rows.stderr)")
        let narrow = folder + "/narrow.npy"
        try NpyMatrixFile.write([Float](repeating: 0.5, count: 6), rows: 2, columns: 3, to: narrow)
        let width = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", queries, "--query-vectors", narrow, "--quiet"])
        #expect(width.status != 0 && width.stderr.contains("\(narrow): 3 columns, but") && width.stderr.contains("dimension 384"), "\(width.stderr)")
        let bm25 = try CommandRunner.run(["search", "--index", folder + "/index", "--queries", queries, "--query-vectors", npy, "--retriever", "bm25"])
        #expect(bm25.status != 0 && bm25.stderr.contains("--query-vectors needs --queries"), "\(bm25.stderr)")
    }
}

extension IndexCommandTests {
    /// Mined negatives are top-ranked passages of the index, never a relevant one.
    @Test func mineWritesNonRelevantTopPassages() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath)"); return }
        let sampleFolder = URL(fileURLWithPath: Self.sample).deletingLastPathComponent()
        let folder = URL(fileURLWithPath: try CommandRunner.temporaryFile([], name: "placeholder")).deletingLastPathComponent().path
        // The whole sample: its dev queries' relevant passages are spread over the file.
        #expect(try build(folder + "/index", Self.sample).status == 0)
        let queries = try CommandRunner.temporaryFile(Array(try String(contentsOf: sampleFolder.appendingPathComponent("queries.dev.tsv"), encoding: .utf8)
            .split(separator: "\n").prefix(20).joined(separator: "\n").utf8) + [0x0A], name: "queries.tsv")
        let qrelsPath = sampleFolder.appendingPathComponent("qrels.dev.tsv").path
        let output = folder + "/negatives.tsv"
        let result = try CommandRunner.run(["mine", "--index", folder + "/index", "--queries", queries, "--qrels", qrelsPath,
                                            "-k", "10", "--keep", "3", "-o", output, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        var relevant: [String: Set<String>] = [:]
        for line in try String(contentsOfFile: qrelsPath, encoding: .utf8).split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            relevant[String(f[0]), default: []].insert(String(f[2]))
        }
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 20)
        for line in lines {
            let parts = line.split(separator: "\t")
            let pids = parts[1].split(separator: ",").map(String.init)
            #expect(pids.count == 3)
            #expect(relevant[String(parts[0])]?.isDisjoint(with: pids) == true)
        }
    }
}
