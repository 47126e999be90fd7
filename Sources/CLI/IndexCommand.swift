import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitStore
import DensekitTokenizer
import Foundation

/// `densekit index ...`: build, rebuild and inspect index folders.
struct Index: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build, rebuild and inspect index folders (LMDB store + FAISS index).",
        subcommands: [Build.self, Import.self, Merge.self, Rebuild.self, Info.self, Verify.self, Export.self])

    /// `densekit index build`.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode a corpus into an index folder; run it again after an interruption to resume.",
            discussion: """
            The folder holds store/ (LMDB: passages, vectors, id maps, metadata; the source of \
            truth) and faiss.index. Each batch of --commit-every passages is committed in one \
            transaction, so a killed build loses at most the batch in flight; running the same \
            command again resumes after the last committed line and gives the same index as an \
            uninterrupted build. Corpus formats: MS MARCO TSV (pid<TAB>text), BEIR corpus.jsonl \
            ({"_id","title","text"}), JSONL ({"id","text"}).
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var build: IndexBuildOptionGroup

        func run() throws {
            // Everything that can be checked is checked before the folder is touched: the model,
            // the corpus (opened, its format detected) and the factory string (FAISS parses it on
            // an empty index), so a mistake never costs an encoding run.
            // Passages go through the passage tower of a two-tower model.
            let model = try modelOptions.loadDualEncoder()
            let source = try build.openSource()
            try build.run(source: source, vectors: EncodedPassages(encoder: model.passage, options: modelOptions.encodeOptions),
                          model: try model.identity(), vectorSource: nil, verb: "encode")
        }
    }

    /// `densekit index import`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store precomputed vectors (.npy) with their passages in an index folder; run it again after an interruption to resume.",
            discussion: """
            Like `index build`, without encoding: row i of --vectors (a float32 [passages, \
            dimension] .npy matrix, from `densekit embed --format npy`, `index export` or \
            numpy.save of another tool's embeddings) is the collection's passage i, or, with \
            --ids (one passage id per line, a line per row), the passage of that id, in any \
            order. --model names the model that made the vectors: its identity goes in the \
            manifest, and queries are encoded with it. Checked before anything is stored: the \
            dimension against the model's, the id count against the rows; then, as rows are \
            stored, each row's values (finite; unit length when the model normalizes) and its \
            passage (a passage without a row is an error naming its line); at the end, that the \
            rows and the passages are as many. --skip-bad-lines goes with --ids only (without \
            ids, a skipped line would shift every later row). Commits, resuming and the FAISS \
            index are as in `index build`.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var build: IndexBuildOptionGroup

        @Option(name: .long, help: "The vectors: a float32 .npy matrix, a row per passage.")
        var vectors: String

        @Option(name: .long, help: "The passage id of each row, one per line (default: rows follow the collection).")
        var ids: String?

        func validate() throws {
            if build.skipBadLines && ids == nil { throw ValidationError("--skip-bad-lines needs --ids: without ids, rows follow the collection's passages, and a skipped line would shift every later row") }
        }

        func run() throws {
            let model = try modelOptions.loadDualEncoder()
            let source = try build.openSource()
            let matrix = try NpyMatrixFile(path: vectors)
            let imported = try ImportedVectors(matrix: matrix, dimension: model.passage.dimension, normalized: model.passage.pooling.normalize,
                                               ids: try ids.map { try TextFile.readIds(path: $0) }, idsPath: ids)
            try build.run(source: source, vectors: imported, model: try model.identity(),
                          vectorSource: URL(fileURLWithPath: vectors).standardizedFileURL.path, verb: "read vectors")
        }
    }

    /// `densekit index merge`.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge index folders of one model (the shards of a sharded build, or any) into one, without re-encoding.",
            discussion: """
            The shards of one `index build --shard I/N` (all N of them, in any order) are \
            interleaved back into the collection's order: the merged folder has the ids, vectors \
            and search results of one build of the whole collection. Other folders are \
            concatenated in the order given. Refused: folders of another model or metric, an \
            unfinished build, a partial set of shards, a passage id in two folders. Passages, \
            vectors and BM25 are copied in committed batches (a killed merge resumes when run \
            again); the FAISS index is then built from the merged store (--factory: another type).
            """)

        @Option(name: .long, help: "The merged index folder (created; must be new, or an interrupted merge of the same folders).")
        var into: String

        @Argument(help: "The folders to merge.")
        var folders: [String]

        @Option(name: .long, help: "FAISS index-factory string of the merged index (default: the folders', which must agree).")
        var factory: String?

        @Option(name: .long, help: "Passages per committed batch.")
        var commitEvery = 1024

        @Option(name: .long, help: "Vectors the merged IVF/PQ index is trained on (default: the first folder's setting).")
        var trainSample: Int?

        @Flag(name: .long, inversion: .prefixedNo, help: "Keep the merged IVF index's inverted lists in a file (default: as the first folder).")
        var onDisk: Bool?

        @Flag(name: .long, help: "No progress on stderr.")
        var quiet = false

        func validate() throws {
            guard !folders.isEmpty else { throw ValidationError("give the folders to merge") }
            if let trainSample, trainSample < 1 { throw ValidationError("--train-sample must be positive") }
            guard commitEvery > 0 else { throw ValidationError("--commit-every must be positive") }
            let target = URL(fileURLWithPath: into).standardizedFileURL.path
            if folders.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
                throw ValidationError("--into \(into) is one of the folders to merge: merge into a new folder")
            }
        }

        func run() throws {
            let sources = try folders.map { try IndexFolder(path: $0, access: .readOnly) }
            let merge = try IndexMerge(sources: sources, factory: factory, trainSample: trainSample, onDisk: onDisk, log: { warn($0) })
            if let factory { _ = try FaissIndex(factory: factory, dimension: merge.manifest.model.dimension, metric: FaissIndex.Metric(rawValue: merge.manifest.metric) ?? .innerProduct) }
            let destination = try IndexFolder(path: into, create: true)
            let start = Date()
            let progress = Progress("index merge", total: merge.total, unit: "passages", quiet: quiet, startingAt: try destination.store.count())
            let index = try merge.run(into: destination, commitEvery: commitEvery, progress: { progress.update($0) }, log: { warn($0) },
                                  status: quietStatus(quiet))
            progress.finish()
            print(String(format: "%@: %d passages from %d folders (%@), FAISS \"%@\" over %d vectors; %.1f s", into, try destination.store.count(), sources.count,
                         merge.interleaved ? "shards interleaved into the collection's order" : "concatenated", merge.manifest.factory, index.count,
                         Date().timeIntervalSince(start)))
        }
    }

    /// `densekit index rebuild`.
    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the FAISS index from the store's vectors (no re-encoding), optionally as another index type.")

        @Option(name: .long, help: "Index folder.")
        var index: String

        @Option(name: .long, help: "FAISS index-factory string (default: the current one).")
        var factory: String?

        @Option(name: .long, help: "ip or l2 (default: the current one).")
        var metric: FaissIndex.Metric?

        @Option(name: .long, help: "Vectors an IVF/PQ index is trained on, recorded for later rebuilds (default: the folder's setting, else 256 per IVF list, 100,000 to 1,000,000).")
        var trainSample: Int?

        @Flag(name: .long, inversion: .prefixedNo, help: "Keep an IVF index's inverted lists in a file beside the index file (--no-on-disk: in memory), recorded (default: the folder's setting).")
        var onDisk: Bool?

        @Flag(name: .long, help: "Rebuild (or add) the BM25 index from the stored passages, with the options below, instead of the FAISS index.")
        var bm25 = false

        func validate() throws {
            if let trainSample, trainSample < 1 { throw ValidationError("--train-sample must be positive") }
        }

        @OptionGroup var lexical: LexicalOptionGroup

        func run() throws {
            let folder = try IndexFolder(path: index)
            if bm25 {
                let start = Date()
                let progress = Progress("bm25", total: try folder.store.count(), unit: "passages")
                try folder.rebuildLexical(lexical.settings, progress: { progress.update($0) })
                progress.finish()
                let statistics = try folder.store.lexicalStatistics() ?? LexicalStatistics()
                print(String(format: "%@: BM25 index over %d passages (mean length %.1f terms) in %.1f s", index, statistics.documents,
                             Double(statistics.totalLength) / Double(max(1, statistics.documents)), Date().timeIntervalSince(start)))
                return
            }
            let manifest = try folder.manifest()
            let factory = factory ?? manifest.factory
            let metric = try metric ?? FaissIndex.Metric(rawValue: manifest.metric).orThrow(ValidationErrorMessage("\(index): unknown metric in manifest"))
            let start = Date()
            let rebuilt = try folder.rebuild(factory: factory, metric: metric, trainSample: trainSample, onDisk: onDisk, log: { warn($0) })
            print(String(format: "%@: rebuilt \"%@\" (%@) over %d vectors in %.1f s", index, factory, metric.rawValue, rebuilt.count, Date().timeIntervalSince(start))
                + (rebuilt.trainingSeconds > 0 ? String(format: " (training %.1f s)", rebuilt.trainingSeconds) : ""))
        }
    }

    /// `densekit index info`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe an index folder: model, counts, FAISS index, build progress.")

        @Option(name: .long, help: "Index folder.")
        var index: String

        func run() throws {
            let folder = try IndexFolder(path: index, access: .readOnly)
            let manifest = try folder.manifest()
            let progress = try folder.store.progress()
            let record = try folder.store.indexRecord()
            let rows: [(String, String)] = [
                ("passages", "\(try folder.store.count())"),
                ("build", progress.complete ? "complete" : "incomplete (resumes after line \(progress.linesConsumed))"),
                ("source", "\(manifest.source) (\(manifest.sourceFormat))"),
                ("model", "\(manifest.model.name) at \(manifest.model.path)"),
                ("weights", manifest.model.weightsFingerprint),
                ("vectors", "\(manifest.model.dimension) dimensions, \(manifest.model.pooling) pooling\(manifest.model.normalized ? ", normalized" : ""), max length \(manifest.model.maxLength)"),
                ("faiss", record.map { "\"\($0.factory)\" (\($0.metric)), covers \($0.covered), \($0.fileSize) bytes" } ?? "not built yet"),
                ("bm25", try manifest.lexical.map { settings in
                    let statistics = try folder.store.lexicalStatistics() ?? LexicalStatistics()
                    return "k1 \(settings.k1), b \(settings.b), \(settings.stopWords ? "English stop words removed" : "stop words kept"), stemmer \(settings.stemmer); \(statistics.documents) passages" } ?? "none (add one with `densekit index rebuild --bm25`)"),
                ("skipped", "\(progress.skippedBadLines) bad lines, \(progress.skippedDuplicates) duplicate ids; \(progress.replacedDuplicates) replaced"),
            ]
            for (key, value) in rows { print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + value) }
        }
    }
}

extension Index {
    /// `densekit index verify`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every record of an index folder: vector checksums, values and norms, id maps, the FAISS file.",
            discussion: """
            Reads the whole store without changing it: each vector against the checksum stored \
            with it (vectors of stores written before densekit kept checksums are counted as not \
            covered), its values (finite; unit length for normalizing models), the id maps and \
            passage texts. Then the FAISS file: size and checksum against what the store recorded, \
            vector count and dimension, and for a Flat index that sampled stored vectors find \
            themselves. Problems are listed with the passage id; the exit status is 1 when there is \
            any. `index rebuild` verifies vectors the same way before indexing them.
            """)

        @Option(name: .long, help: "Index folder.")
        var index: String

        @Option(name: .long, help: "Stored vectors searched in a Flat FAISS index to check it finds each of them.")
        var sample = 1_000

        @Flag(name: .long, help: "No progress on stderr.")
        var quiet = false

        func validate() throws {
            guard sample >= 0 else { throw ValidationError("--sample must be 0 or more") }
        }

        func run() throws {
            let folder = try IndexFolder(path: index, access: .readOnly)
            let progress = Progress("index verify", total: try folder.store.count(), unit: "vectors", quiet: quiet)
            let result = try folder.verify(sampleSize: sample, progress: { progress.update($0) })
            progress.finish()
            for problem in result.problems { print("problem: \(problem)") }
            if result.problemCount > result.problems.count { print("problem: ... and \(result.problemCount - result.problems.count) more") }
            let uncovered = result.records - result.checksummed
            print("\(index): \(result.records) vectors read, \(result.checksummed) against their checksums\(uncovered > 0 ? " (\(uncovered) stored before checksums were kept)" : ""); \(result.problemCount == 0 ? "no problem found" : "\(result.problemCount) problems")")
            if result.problemCount > 0 { throw ExitCode(1) }
        }
    }

    /// `densekit index export`.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the store's vectors as a float32 .npy matrix (row i = internal id i) and, optionally, the ids.")

        @Option(name: .long, help: "Index folder.")
        var index: String

        @Option(name: [.short, .long], help: "The .npy file to write.")
        var output: String

        @Option(name: .long, help: "Also write the passage ids, one per line, in row order.")
        var ids: String?

        func run() throws {
            let folder = try IndexFolder(path: index, readOnly: true)
            let dimension = try folder.manifest().model.dimension
            let count = try folder.store.count()
            // In chunks, so that memory stays flat in the collection's size.
            let writer = try NpyMatrixWriter(path: output, rows: count, columns: dimension)
            let sink = try ids.map { try OutputSink(path: $0) }
            let chunk = 16_384
            var vectors = [Float](repeating: 0, count: min(chunk, max(count, 1)) * dimension)
            for start in stride(from: 0, to: count, by: chunk) {
                let end = min(start + chunk, count)
                try vectors.withUnsafeMutableBufferPointer { buffer in
                    try folder.store.readVectors(start..<end, dimension: dimension, into: buffer.baseAddress!)
                    try writer.append(UnsafeBufferPointer(rebasing: buffer[0..<((end - start) * dimension)]))
                }
                folder.store.releaseMappedPages()
                if let sink {
                    for passage in try folder.store.passages(internalIds: Array(start..<end), includeText: false) {
                        try sink.write((passage?.id ?? "") + "\n")
                    }
                }
            }
            try writer.finish()
            try sink?.close()
            print("\(output): \(count) x \(dimension)")
        }
    }
}

/// What `index build` and `index import` share: the folder, the corpus, the FAISS index, the
/// commits and the BM25 index; and the run itself, once the vectors' source is chosen.
struct IndexBuildOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Index folder (created if missing).")
    var index: String

    @Option(name: .long, help: "Corpus file.")
    var collection: String

    @Option(name: .long, help: "Corpus format: auto, msmarco, beir, jsonl.")
    var format: CorpusFormatOption = .auto

    @Option(name: .long, help: "FAISS index-factory string, e.g. Flat, HNSW32, IVF1024,PQ32.")
    var factory = "Flat"

    @Option(name: .long, help: "ip (inner product; cosine for normalized models) or l2.")
    var metric: FaissIndex.Metric = .innerProduct

    @Option(name: .long, help: "Passages per committed batch.")
    var commitEvery = 1024

    @Option(name: .long, help: "A passage id already stored: error, skip or replace.")
    var onDuplicate: EmbeddingStore.DuplicatePolicy = .error

    @Flag(name: .long, help: "Skip malformed lines (reported at the end) instead of stopping at the first.")
    var skipBadLines = false

    @Flag(name: .customLong("no-bm25"), help: "Build no BM25 index beside the vectors.")
    var noBM25 = false

    @OptionGroup var lexical: LexicalOptionGroup

    @Option(name: .long, help: "Store only shard I of N (0-based): blocks I, I+N, I+2N... of --shard-block passages each; merge the N folders with `index merge`.")
    var shard: ShardOption?

    @Option(name: .long, help: "Passages per shard block.")
    var shardBlock = ShardSpec.defaultBlockSize

    @Option(name: .long, help: "Vectors an IVF/PQ index is trained on (default: 256 per IVF list, 100,000 to 1,000,000).")
    var trainSample: Int?

    @Flag(name: .long, help: "Keep an IVF index's inverted lists in a file beside the index file (memory-mapped) instead of in memory.")
    var onDisk = false

    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard commitEvery > 0 else { throw ValidationError("--commit-every must be positive") }
        guard shardBlock > 0 else { throw ValidationError("--shard-block must be positive") }
        if let trainSample, trainSample < 1 { throw ValidationError("--train-sample must be positive") }
        if shard != nil && onDuplicate != .error {
            throw ValidationError("--shard needs --on-duplicate error: a shard sees only its own passages, and `index merge` refuses duplicates across shards")
        }
    }

    /// The shard to store, nil for the whole collection.
    var shardSpec: ShardSpec? { shard.map { ShardSpec(index: $0.index, count: $0.count, blockSize: shardBlock) } }

    /// The corpus as the manifest records it: an absolute path, or "-" for standard input.
    var sourceIdentity: String { collection == "-" ? "-" : URL(fileURLWithPath: collection).standardizedFileURL.path }

    /// The corpus, opened and its format detected.
    func openSource() throws -> PassageReader {
        try PassageReader(path: collection, format: format.corpusFormat, policy: skipBadLines ? .skip : .stop)
    }

    /// Checks the factory string, then creates (or resumes) the folder and stores `vectors`' rows
    /// with the corpus's passages; prints the summary (`verb`: what the vectors' time went to).
    func run(source: PassageReader, vectors: any PassageVectorSource, model: ModelIdentity, vectorSource: String?, verb: String) throws {
        _ = try FaissIndex(factory: factory, dimension: vectors.dimension, metric: metric)
        let folder = try IndexFolder(path: index, create: true)
        var options = IndexBuilder.Options()
        options.factory = factory
        options.metric = metric
        options.commitEvery = commitEvery
        options.onDuplicate = onDuplicate
        options.lexical = noBM25 ? nil : lexical.settings
        options.shard = shardSpec
        options.trainSample = trainSample
        options.onDisk = onDisk
        let builder = IndexBuilder(folder: folder, vectors: vectors, options: options)
        let manifest = try builder.prepare(source: sourceIdentity, format: source.format.rawValue, model: model, vectorSource: vectorSource, log: { warn($0) })

        let alreadyStored = try folder.store.count()
        let progress = Progress("index \(vectorSource == nil ? "build" : "import")", total: lineCount(ofRegularFile: collection).map { shardSpec?.passages(of: $0) ?? $0 }, unit: "passages",
                                quiet: quiet, startingAt: alreadyStored)
        let report = try builder.build(
            sourcePath: collection,
            next: { try source.nextRecord().map { SourcePassage(id: $0.record.id, text: $0.record.text, line: $0.line) } },
            skippedBadLines: { source.report.skippedLines },
            progress: { progress.update($0) }, log: { warn($0) }, status: quietStatus(quiet))
        progress.finish()
        for problem in source.report.firstErrors { warn("skipped: \(problem)") }
        if let warning = source.report.warning { warn(warning) }
        var summary = "\(index): \(report.total) passages\(shardSpec.map { " (shard \($0))" } ?? "") (\(report.stored) new"
        if report.skippedDuplicates > 0 { summary += ", \(report.skippedDuplicates) duplicate ids skipped" }
        if report.replacedDuplicates > 0 { summary += ", \(report.replacedDuplicates) replaced" }
        if report.skippedBadLines > 0 { summary += ", \(report.skippedBadLines) bad lines skipped" }
        summary += String(format: "); %@ %.1f s, store %.1f s, FAISS \"%@\" %.1f s", verb, report.encodeSeconds, report.storeSeconds, manifest.factory, report.indexSeconds)
        if report.trainSeconds > 0 { summary += String(format: " (training %.1f s)", report.trainSeconds) }
        print(summary)
    }
}

/// The BM25 index's options (`index build`, `index rebuild --bm25`); recorded in the manifest.
struct LexicalOptionGroup: ParsableArguments {
    @Option(name: .long, help: "BM25 term-frequency saturation.")
    var k1 = LexicalSettings().k1
    @Option(name: .long, help: "BM25 length normalisation (0: none, 1: full).")
    var b = LexicalSettings().b
    @Flag(name: .long, help: "Keep English stop words in the BM25 index (removed by default, as Lucene and bm25s do).")
    var keepStopwords = false
    @Option(name: .long, help: "BM25 stemming: none, porter (Porter 1980, as Lucene's English analyzer) or english (Snowball's Porter2, as bm25s with PyStemmer).")
    var stemmer = StemmerKind.none

    func validate() throws {
        guard k1.isFinite, k1 >= 0 else { throw ValidationError("--k1 must be 0 or a positive number, not \(k1)") }
        guard b.isFinite, (0...1).contains(b) else { throw ValidationError("--b must be between 0 and 1, not \(b)") }
    }

    var settings: LexicalSettings { LexicalSettings(stopWords: !keepStopwords, stemmer: stemmer.rawValue, k1: k1, b: b) }
}

/// `--shard I/N`: shard I (0-based) of N.
struct ShardOption: ExpressibleByArgument {
    let index: Int, count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// Corpus formats for --format.
enum CorpusFormatOption: String, ExpressibleByArgument {
    case auto, msmarco, beir, jsonl

    /// nil for `auto`: detect from the file.
    var corpusFormat: CorpusFormat? { CorpusFormat(rawValue: rawValue) }
}

extension FaissIndex.Metric: ExpressibleByArgument {}
extension StemmerKind: ExpressibleByArgument {}
extension EmbeddingStore.DuplicatePolicy: ExpressibleByArgument {}

extension Optional {
    func orThrow(_ error: @autoclosure () -> Error) throws -> Wrapped {
        guard let value = self else { throw error() }
        return value
    }
}

/// A line on standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Where a library step's status lines go (what it is doing, such as training a FAISS index):
/// nowhere under `--quiet`, else with its warnings (nil).
func quietStatus(_ quiet: Bool) -> ((String) -> Void)? {
    quiet ? { _ in } : nil
}
