import DensekitEncoder
import DensekitStore
import DensekitTensor
import DensekitTokenizer
import Foundation

/// One passage as read from a corpus file, with where it came from (for error messages and
/// for resuming after the last committed line).
public struct SourcePassage: Sendable {
    public var id: String
    public var text: String
    /// 1-based line of the corpus file.
    public var line: Int

    /// A passage read from line `line`.
    public init(id: String, text: String, line: Int) {
        self.id = id
        self.text = text
        self.line = line
    }
}

/// Streams a corpus into an index folder: embed a batch (encode it, or read its rows of
/// imported vectors), commit it (passages, vectors, id maps and progress in one LMDB
/// transaction), repeat; then bring the FAISS index up to date.
///
/// A build killed at any point and started again skips the lines its last commit covered and
/// continues, producing the same ids and vectors as an uninterrupted build.
public struct IndexBuilder {
    /// Settings of a build.
    public struct Options: Sendable {
        public var factory = "Flat"
        public var metric = FaissIndex.Metric.innerProduct
        /// Passages per LMDB transaction (and per encoder call).
        public var commitEvery = 1024
        public var onDuplicate = EmbeddingStore.DuplicatePolicy.error
        public var encode = EncodeOptions()
        /// The BM25 index built beside the vectors (nil: none).
        public var lexical: LexicalSettings? = LexicalSettings()
        /// Store only this shard's passages (nil: all); duplicates must then be errors.
        public var shard: ShardSpec?
        /// Vectors the FAISS index is trained on (nil: `FaissIndex.defaultTrainingSample`).
        public var trainSample: Int?
        /// An IVF index keeps its inverted lists in a file beside the index file.
        public var onDisk = false

        /// Defaults: Flat, inner product, commits of 1,024, duplicates are errors.
        public init() {}
    }

    /// Where the time went, for progress reports and benchmarks.
    public struct Report: Sendable {
        public var stored = 0, skippedDuplicates = 0, replacedDuplicates = 0, skippedBadLines = 0
        /// Lines skipped because an earlier run had committed them.
        public var resumedAfterLine = 0
        public var encodeSeconds = 0.0, storeSeconds = 0.0, indexSeconds = 0.0
        /// The part of `indexSeconds` spent training the FAISS index (0 when it needs none or
        /// was up to date).
        public var trainSeconds = 0.0
        public var total = 0
    }

    public let folder: IndexFolder
    public let vectors: any PassageVectorSource
    public let options: Options

    /// A builder that encodes with `encoder` (and `options.encode`) into `folder`.
    public init(folder: IndexFolder, encoder: SentenceEncoder, options: Options) {
        self.init(folder: folder, vectors: EncodedPassages(encoder: encoder, options: options.encode), options: options)
    }

    /// A builder that stores `vectors`' rows into `folder`.
    public init(folder: IndexFolder, vectors: any PassageVectorSource, options: Options) {
        self.folder = folder
        self.vectors = vectors
        self.options = options
    }

    /// Checks (or, for a new store, writes) the manifest: a store is only ever extended with
    /// vectors of the same model, and its recorded source (and imported vectors file,
    /// `vectorSource`) must be the ones given. A store that holds no passage yet (a first build
    /// that failed) takes the new settings.
    ///
    /// - Returns: the manifest the build goes on with; its factory and metric are the stored
    ///   ones when the index was built before (`log` then says the options are ignored).
    @discardableResult
    public func prepare(source: String, format: String, model: ModelIdentity, vectorSource: String? = nil,
                        log: (String) -> Void = { _ in }) throws -> StoreManifest {
        var fresh = StoreManifest(model: model, source: source, sourceFormat: format, factory: options.factory, metric: options.metric.rawValue)
        fresh.lexical = options.lexical
        fresh.vectorSource = vectorSource
        fresh.shard = options.shard
        fresh.trainSample = options.trainSample
        fresh.onDisk = options.onDisk ? true : nil
        if options.shard != nil && options.onDuplicate != .error {
            // A shard sees only its own passages, so skipping or replacing would act on some
            // duplicates and not others; `index merge` refuses duplicates across shards.
            throw IndexError.invalid("\(folder.path): a shard build needs --on-duplicate error (duplicates across shards are found by `index merge`)")
        }
        guard let existing = try folder.store.manifest(), try folder.store.count() > 0 else {
            try folder.store.setManifest(fresh)
            try folder.store.setProgress(BuildProgress())
            return fresh
        }
        if let difference = existing.model.difference(from: model) {
            throw StoreError.mismatch(path: folder.path, reason: "this index was built with model \(existing.model.name) (\(existing.model.path), weights \(existing.model.weightsFingerprint), dimension \(existing.model.dimension)); refusing to add vectors of \(model.name) (weights \(model.weightsFingerprint), dimension \(model.dimension)); they differ in \(difference)")
        }
        guard existing.source == source else {
            throw StoreError.mismatch(path: folder.path, reason: "this index is being built from \(existing.source); to resume, give the same corpus (or build a new index folder)")
        }
        guard existing.shard == options.shard else {
            let was = existing.shard.map { "as shard \($0) (blocks of \($0.blockSize))" } ?? "from the whole collection"
            throw StoreError.mismatch(path: folder.path, reason: "this index is being built \(was); to resume, give the same --shard (or build a new index folder)")
        }
        guard existing.vectorSource == vectorSource else {
            let was = existing.vectorSource.map { "with vectors imported from \($0) (`index import`)" } ?? "by encoding (`index build`)"
            throw StoreError.mismatch(path: folder.path, reason: "this index is being built \(was); to resume, run it the same way (or build a new index folder)")
        }
        if existing.lexical != options.lexical {
            let now = existing.lexical.map { "BM25 with k1 \($0.k1), b \($0.b), stemmer \($0.stemmer)" } ?? "no BM25 index"
            log("warning: the BM25 options are ignored: \(folder.path) is built with \(now); to change that, run `densekit index rebuild --index \(folder.path) --bm25` with the new options")
        }
        if (existing.onDisk ?? false) != options.onDisk {
            log("warning: --on-disk \(options.onDisk ? "given" : "not given") but \(folder.path) is built with its lists \((existing.onDisk ?? false) ? "on disk" : "in memory"); `densekit index rebuild --\(options.onDisk ? "" : "no-")on-disk` changes it")
        }
        if existing.trainSample != options.trainSample, let asked = options.trainSample {
            log("warning: --train-sample \(asked) ignored: \(folder.path) is built with \(existing.trainSample.map(String.init) ?? "the default"); `densekit index rebuild --train-sample N` changes it")
        }
        if existing.factory != options.factory || existing.metric != options.metric.rawValue {
            log("warning: --factory \"\(options.factory)\" --metric \(options.metric.rawValue) ignored: \(folder.path) is built as \"\(existing.factory)\" (\(existing.metric)); to change that, run `densekit index rebuild --index \(folder.path) --factory \(options.factory) --metric \(options.metric.rawValue)`")
        }
        return existing
    }

    /// Reads `next` to the end, storing passages in batches, then updates the FAISS index.
    ///
    /// - Parameters:
    ///   - next: the corpus reader; returns nil at the end. It must return passages in file order.
    ///   - skippedBadLines: how many bad lines the reader skipped so far (with `--skip-bad-lines`).
    ///   - progress: called after each commit with the total passages stored.
    ///   - sourcePath: the corpus file, for `file:line` in error messages.
    ///   - log, status: warnings, and what the build is doing (as for `IndexFolder.openVectorIndex`).
    public func build(sourcePath: String = "corpus", next: () throws -> SourcePassage?, skippedBadLines: () -> Int = { 0 },
                      progress: (Int) -> Void = { _ in }, log: (String) -> Void = { _ in }, status: ((String) -> Void)? = nil) throws -> Report {
        let store = folder.store
        var state = try store.progress()
        var report = Report()
        report.resumedAfterLine = state.linesConsumed
        let skippedBefore = state.skippedBadLines
        if state.linesConsumed > 0 && !state.complete {
            statusLine("resuming after line \(state.linesConsumed) (\(try store.count()) passages already stored)", status, log)
        }
        let dimension = vectors.dimension
        // The manifest decides (a resumed build keeps the settings it started with).
        let lexical = try folder.manifest().lexical.map { try LexicalAnalyzer(settings: $0) }.map { analyzer in { (text: String) in analyzer.frequencies(text) } }
        var batch: [SourcePassage] = []
        // Passages read so far (those an earlier run stored included): the next one's ordinal.
        var ordinal = 0
        var batchOrdinals: [Int] = []
        /// Stores the batch with the progress: lines up to `line` read (for a shard, lines of
        /// other shards after the batch's last passage too: the checksum covers them).
        var storedSinceRelease = 0
        func commit(through line: Int) throws {
            guard !batch.isEmpty else { return }
            let start = DispatchTime.now().uptimeNanoseconds
            let values = try vectors.vectors(for: batch, ordinals: batchOrdinals, sourcePath: sourcePath)
            let encoded = DispatchTime.now().uptimeNanoseconds
            state.linesConsumed = line
            state.recordsConsumed += batch.count
            state.skippedBadLines = skippedBefore + skippedBadLines()
            let records = batch.map { (id: $0.id, text: $0.text, origin: "\(sourcePath):\($0.line)") }
            let result = try store.append(records, vectors: values, dimension: dimension, policy: options.onDuplicate, progress: state, lexical: lexical)
            state.skippedDuplicates += result.skipped
            state.replacedDuplicates += result.replaced
            report.stored += result.stored
            report.encodeSeconds += Double(encoded - start) / 1e9
            report.storeSeconds += Double(DispatchTime.now().uptimeNanoseconds - encoded) / 1e9
            // Appending reads B-tree pages (duplicate ids, the tables' last leaves) through
            // the memory map; released every scan chunk so the resident set stays flat.
            storedSinceRelease += batch.count
            if storedSinceRelease >= IndexFolder.scanChunk {
                storedSinceRelease = 0
                store.releaseMappedPages()
            }
            batch.removeAll(keepingCapacity: true)
            batchOrdinals.removeAll(keepingCapacity: true)
            progress(try store.count())
        }
        // Lines up to the last commit are already in the store: they are read again only to
        // check that they are still the lines that were stored.
        let recordedChecksum = state.sourceChecksum
        let storedUpTo = state.linesConsumed
        var checksum: UInt32 = 0
        var lastLine = 0
        var prefixChecked = storedUpTo == 0
        func checkPrefix() throws {
            prefixChecked = true
            guard lastLine >= storedUpTo else {
                throw IndexError.invalid("\(sourcePath) ends at line \(lastLine), but \(folder.path) stored passages up to line \(storedUpTo): the corpus changed since; build a new index folder from it")
            }
            guard recordedChecksum == nil || recordedChecksum == checksum else {
                throw IndexError.invalid("\(sourcePath): lines 1-\(storedUpTo) are not the ones \(folder.path) stored (their checksum differs): the corpus changed since, and going on would mix two versions of it; build a new index folder from it")
            }
        }
        while let passage = try next() {
            ordinal += 1
            if passage.line <= storedUpTo {
                checksum = Self.checksum(of: passage, continuing: checksum)
                lastLine = passage.line
                continue
            }
            if !prefixChecked { try checkPrefix() }
            checksum = Self.checksum(of: passage, continuing: checksum)
            lastLine = passage.line
            if let shard = options.shard, !shard.contains(ordinal: ordinal - 1) { continue }
            batch.append(passage)
            batchOrdinals.append(ordinal - 1)
            if batch.count >= options.commitEvery {
                state.sourceChecksum = checksum
                try commit(through: passage.line)
            }
        }
        if !prefixChecked { try checkPrefix() }
        state.sourceChecksum = checksum
        try commit(through: lastLine)
        try vectors.finish(passages: ordinal, sourcePath: sourcePath)
        guard try store.count() > 0 else {
            if let shard = options.shard {
                throw IndexError.invalid("\(sourcePath): shard \(shard) holds no passage: the collection's \(ordinal) passages make \((ordinal + shard.blockSize - 1) / shard.blockSize) blocks of \(shard.blockSize); use fewer shards or smaller blocks")
            }
            let seen = state.recordsConsumed + skippedBadLines()
            throw IndexError.invalid("\(sourcePath): no passage was stored (\(seen == 0 ? "the input holds no passage" : "\(seen) lines read, none stored")); nothing to index")
        }
        state.skippedBadLines = skippedBefore + skippedBadLines()
        // Every line read is covered (a shard's last lines may belong to other shards).
        state.linesConsumed = max(state.linesConsumed, lastLine)
        state.complete = true
        try store.setProgress(state)

        let indexStart = DispatchTime.now().uptimeNanoseconds
        report.trainSeconds = try folder.openVectorIndex(log: log, status: status).trainingSeconds
        report.indexSeconds = Double(DispatchTime.now().uptimeNanoseconds - indexStart) / 1e9
        report.skippedDuplicates = state.skippedDuplicates
        report.replacedDuplicates = state.replacedDuplicates
        report.skippedBadLines = state.skippedBadLines
        report.total = try store.count()
        return report
    }
}

extension IndexBuilder {
    /// The passage's contribution to `BuildProgress.sourceChecksum`.
    static func checksum(of passage: SourcePassage, continuing crc: UInt32) -> UInt32 {
        var bytes = Array(passage.id.utf8)
        bytes.append(0x09)
        bytes.append(contentsOf: passage.text.utf8)
        bytes.append(0x0A)
        return bytes.withUnsafeBytes { CRC32.checksum($0, continuing: crc) }
    }
}

extension SentenceEncoder {
    /// This encoder's identity for a store manifest: the weights' CRC-32 and size, and the
    /// settings that change its vectors.
    public func identity() throws -> ModelIdentity {
        guard let directory else { throw IndexError.invalid("a model built in memory has no folder to record") }
        var identity = ModelIdentity(name: directory.lastPathComponent, path: directory.standardizedFileURL.path,
                                     weightsFingerprint: try ModelFolder(directory).weightsFingerprint(),
                                     dimension: dimension, pooling: pooling.mode.rawValue, normalized: pooling.normalize, maxLength: maxLength)
        identity.architectureFingerprint = architectureFingerprint
        return identity
    }
}

extension DualEncoder {
    /// The identity an index built with this pair records: the model's own when tied (so an
    /// index records the same identity whichever way the model was loaded), else both towers'
    /// fingerprints under the parent folder, with the passage tower's vector settings.
    public func identity() throws -> ModelIdentity {
        let passageIdentity = try passage.identity()
        guard !isTied else { return passageIdentity }
        guard let directory else { throw IndexError.invalid("a two-tower model built in memory has no folder to record") }
        var pair = passageIdentity
        pair.name = directory.lastPathComponent
        pair.path = directory.standardizedFileURL.path
        pair.weightsFingerprint = try ModelFolder(directory).weightsFingerprint()
        pair.architectureFingerprint = "query " + query.architectureFingerprint + ", passage " + passage.architectureFingerprint
        return pair
    }
}
