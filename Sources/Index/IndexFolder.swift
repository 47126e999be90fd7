import DensekitStore
import DensekitTensor
import DensekitTokenizer
import Foundation

/// An index folder: the LMDB store (`store/`, the source of truth) and the FAISS file built
/// from it (`faiss.index`), kept consistent with each other.
///
/// The FAISS file is only ever replaced whole (written to a temporary file, synced, renamed),
/// and its size, checksum, covered count and store generation are recorded in the store after
/// the rename. Opening compares the file with that record: a file that lags the store gets
/// the missing vectors added; a missing, truncated, foreign or stale file is rebuilt from the
/// store's vectors, with a warning. No crash point leaves an index that silently disagrees
/// with its store.
///
/// Writers hold `build.lock` (`BuildLock`), so two builds never interleave; readers take no
/// lock, and a folder they cannot write (or one being built) is repaired in memory only.
public final class IndexFolder: @unchecked Sendable {
    public let path: String
    public let store: EmbeddingStore
    public var faissPath: String { path + "/faiss.index" }
    /// Nothing in the folder is written: a FAISS file that needs repair is repaired in memory.
    public let readOnly: Bool
    /// Held while this process may write the folder (see `BuildLock`).
    private let lock: BuildLock?
    /// The PID of another process building this index when it was opened for reading; nil
    /// when none was.
    public let beingBuiltBy: Int32?

    /// How a command means to use the folder.
    public enum Access: Sendable {
        /// Build or change it (created when missing).
        case create
        /// Change it; it must exist.
        case readWrite
        /// Only read it; a stale FAISS file is repaired in memory, not on disk.
        case readOnly
        /// Read it, and repair a stale FAISS file on disk when the folder is writable (search).
        case readRepairingIfWritable
    }

    /// Opens the folder's store.
    public convenience init(path: String, create: Bool = false, readOnly: Bool = false) throws {
        try self.init(path: path, access: create ? .create : readOnly ? .readOnly : .readWrite)
    }

    /// Opens the folder's store for `access`.
    /// - Parameter reads: how the store will be read: `.random` for searchers, which read the
    ///   ids, texts or vectors of their hits at scattered places (a repair of a stale FAISS
    ///   file then reads the store without read-ahead too: slower from a cold disk, still right).
    public init(path: String, access: Access, reads: LMDBEnvironment.ReadPattern = .sequential) throws {
        self.path = path
        let storePath = path + "/store"
        if access != .create && !FileManager.default.fileExists(atPath: storePath + "/data.mdb") {
            throw IndexError.invalid("\(path): not a densekit index (no store/data.mdb); build one with `densekit index build`")
        }
        switch access {
        case .create, .readWrite:
            if access == .create {
                do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                    throw IndexError.invalid("\(path): cannot create the index folder: \(error.localizedDescription)")
                }
            }
            lock = try BuildLock(folder: path)
            readOnly = false
            beingBuiltBy = nil
        case .readOnly:
            lock = nil
            readOnly = true
            beingBuiltBy = BuildLock.holder(of: path)
        case .readRepairingIfWritable:
            beingBuiltBy = BuildLock.holder(of: path)
            // Repairs need the folder writable and no build running (which would race them);
            // the lock is taken only for a repair (`save`), so that readers never block each other.
            let writable = Self.writable(path) && Self.writable(storePath) && Self.writable(storePath + "/data.mdb")
            lock = nil
            readOnly = !writable || beingBuiltBy != nil
        }
        store = try EmbeddingStore(path: storePath, create: access == .create, readOnly: readOnly, reads: reads)
    }

    private static func writable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    /// The manifest, which every complete or partial index has.
    public func manifest() throws -> StoreManifest {
        guard let manifest = try store.manifest() else {
            throw IndexError.invalid("\(path): the store has no manifest (an interrupted first batch?); run `densekit index build` again")
        }
        guard manifest.formatVersion == StoreManifest.currentFormatVersion else {
            throw IndexError.invalid("\(path): store format \(manifest.formatVersion), this densekit reads \(StoreManifest.currentFormatVersion)")
        }
        return manifest
    }

    /// The FAISS index, brought up to date with the store first (see the type's comment).
    ///
    /// - Parameters:
    ///   - mapped: map an IVF index's inverted lists from the file read-only (`--mmap`), so
    ///     that search needs memory for the coarse quantizer and the lists it touches only. An
    ///     index file that must be repaired or brought up to date first is read into memory.
    ///   - log: receives warnings and notes for stderr.
    ///   - status: receives what the step is doing (bringing the index up to date, training it),
    ///     which `--quiet` silences; nil: `log` receives it.
    public func openVectorIndex(mapped: Bool = false, log: (String) -> Void, status: ((String) -> Void)? = nil) throws -> FaissIndex {
        let manifest = try manifest()
        let count = try store.count()
        let generation = try store.generation()
        guard let record = try store.indexRecord() else {
            if FileManager.default.fileExists(atPath: faissPath) {
                log("warning: \(faissPath) is not recorded in the store (interrupted save?); rebuilding it from the store")
            }
            return try rebuild(factory: manifest.factory, metric: metric(manifest), log: log, status: status)
        }
        if let problem = problem(with: record, manifest: manifest, generation: generation, count: count) {
            log("warning: \(faissPath): \(problem); rebuilding it from the store (no re-encoding)")
            return try rebuild(factory: manifest.factory, metric: metric(manifest), log: log, status: status)
        }
        if record.dataFile != nil && record.covered < count {
            // On-disk lists are never added to in place: the file the saved index names would change under it.
            statusLine("\(faissPath) covers \(record.covered) of \(count) stored vectors; its lists are on disk, so it is rebuilt from the store", status, log)
            return try rebuild(factory: manifest.factory, metric: metric(manifest), log: log, status: status)
        }
        let mapping = (mapped || record.dataFile != nil) && record.covered == count
        if mapped && !mapping {
            log("note: \(faissPath) covers \(record.covered) of \(count) stored vectors: read into memory to add the rest (--mmap maps an up-to-date index file)")
        }
        let index: FaissIndex
        do { index = try FaissIndex(contentsOf: faissPath, factory: record.factory, mapped: mapping) } catch {
            log("warning: \(faissPath): \(error); rebuilding it from the store (no re-encoding)")
            return try rebuild(factory: manifest.factory, metric: metric(manifest), log: log, status: status)
        }
        if mapped && mapping && !index.isMapped {
            log("note: --mmap maps the inverted lists of IVF indexes; \"\(record.factory)\" is read into memory")
        }
        guard index.count == record.covered, index.dimension == manifest.model.dimension else {
            log("warning: \(faissPath) holds \(index.count) vectors of dimension \(index.dimension), expected \(record.covered) of \(manifest.model.dimension); rebuilding it")
            return try rebuild(factory: manifest.factory, metric: metric(manifest), log: log, status: status)
        }
        if record.covered < count {
            statusLine("\(faissPath) covers \(record.covered) of \(count) stored vectors; adding the rest", status, log)
            try add(to: index, range: record.covered..<count, dimension: manifest.model.dimension)
            try save(index, factory: record.factory, metric: record.metric, covered: count, generation: generation, log: log)
        }
        return index
    }

    /// Builds a new FAISS index from every vector in the store (training on a sample first when
    /// the index type needs it), saves it atomically and records it.
    /// - Parameters:
    ///   - trainSample: vectors to train on, recorded for later rebuilds (nil: the folder's
    ///     recorded setting).
    ///   - onDisk: keep an IVF index's lists in a file, recorded (nil: the recorded setting).
    ///   - log, status: as for `openVectorIndex`.
    @discardableResult
    public func rebuild(factory: String, metric: FaissIndex.Metric, trainSample: Int? = nil, onDisk: Bool? = nil,
                        log: (String) -> Void, status: ((String) -> Void)? = nil) throws -> FaissIndex {
        var manifest = try manifest()
        if !readOnly, trainSample != nil && trainSample != manifest.trainSample || onDisk != nil && onDisk != (manifest.onDisk ?? false) {
            if let trainSample { manifest.trainSample = trainSample }
            if let onDisk { manifest.onDisk = onDisk ? true : nil }
            try store.setManifest(manifest)
        }
        let dimension = manifest.model.dimension
        let count = try store.count()
        let generation = try store.generation()
        let index = try FaissIndex(factory: factory, dimension: dimension, metric: metric)
        if !index.isTrained {
            let sample = trainingSample(count: count, size: manifest.trainSample ?? FaissIndex.defaultTrainingSample(factory: factory))
            guard !sample.isEmpty else { throw IndexError.invalid("\(path): index \"\(factory)\" needs training, but the store is empty") }
            statusLine("training \"\(factory)\" on \(sample.count) of \(count) vectors", status, log)
            var vectors = [Float](repeating: 0, count: sample.count * dimension)
            try vectors.withUnsafeMutableBufferPointer { buffer in
                for (row, id) in sample.enumerated() {
                    try store.readVectors(id..<(id + 1), dimension: dimension, into: buffer.baseAddress! + row * dimension)
                    if row % Self.scanChunk == Self.scanChunk - 1 { store.releaseMappedPages() }
                }
                store.releaseMappedPages()
                try index.train(buffer.baseAddress!, count: sample.count)
            }
        }
        if manifest.onDisk == true {
            if readOnly || lock == nil {
                log("note: \(path) cannot be written now: its on-disk lists are rebuilt in memory")
            } else if factory.contains("IVF") {
                try index.moveListsToDisk(path: path + "/" + Self.growingListsFile)
            } else {
                log("note: --on-disk keeps the inverted lists of IVF indexes in a file; \"\(factory)\" is built in memory")
            }
        }
        try add(to: index, range: 0..<count, dimension: dimension)
        if !readOnly && (factory != manifest.factory || metric.rawValue != manifest.metric) {
            var updated = manifest
            updated.factory = factory
            updated.metric = metric.rawValue
            try store.setManifest(updated)
        }
        try save(index, factory: factory, metric: metric.rawValue, covered: count, generation: generation, log: log)
        return index
    }

    /// Builds the BM25 index anew from the stored passages with `settings` and records them in
    /// the manifest (which then says the folder has one).
    public func rebuildLexical(_ settings: LexicalSettings, progress: (Int) -> Void = { _ in }) throws {
        let analyzer = try LexicalAnalyzer(settings: settings)
        var manifest = try manifest()
        // Cleared first: a rebuild killed half-way leaves no manifest claiming a full index.
        manifest.lexical = nil
        try store.setManifest(manifest)
        try store.rebuildLexical(analyze: { analyzer.frequencies($0) }, progress: progress)
        manifest.lexical = settings
        try store.setManifest(manifest)
    }

    /// Checks the whole folder without changing it: every record of the store
    /// (`EmbeddingStore.verify`), then the FAISS file against its record (size, checksum,
    /// vector count, dimension) and, for an exact (Flat) index, that each of up to
    /// `sampleSize` evenly spaced stored vectors finds itself first.
    public func verify(sampleSize: Int = 1_000, progress: (Int) -> Void = { _ in }) throws -> EmbeddingStore.Verification {
        let manifest = try manifest()
        let dimension = manifest.model.dimension
        var result = try store.verify(dimension: dimension, normalized: manifest.model.normalized, progress: progress)
        let count = try store.count()
        guard let record = try store.indexRecord() else {
            result.report("\(faissPath): no FAISS index recorded (the build did not reach it); run `densekit index build` again")
            return result
        }
        if let problem = problem(with: record, manifest: manifest, generation: try store.generation(), count: count) {
            result.report("\(faissPath): \(problem); run `densekit index rebuild`")
            return result
        }
        let index: FaissIndex
        do { index = try FaissIndex(contentsOf: faissPath, factory: record.factory, mapped: record.dataFile != nil) } catch {
            result.report("\(faissPath): \(error); run `densekit index rebuild`")
            return result
        }
        guard index.count == record.covered, index.dimension == dimension else {
            result.report("\(faissPath): holds \(index.count) vectors of dimension \(index.dimension), recorded \(record.covered) of \(dimension); run `densekit index rebuild`")
            return result
        }
        if record.covered < count {
            result.report("\(faissPath): covers \(record.covered) of \(count) stored vectors (the next search adds the rest)")
        }
        guard ["Flat", "IDMap,Flat"].contains(record.factory), record.covered > 0 else { return result }
        let sample = Array(Set((0..<min(sampleSize, record.covered)).map { $0 * record.covered / min(sampleSize, record.covered) })).sorted()
        // A damaged vector is listed by the store's check already: only readable ones are searched,
        // all in one FAISS call.
        var vectors: [Float] = []
        var searched: [Int] = []
        var vector = [Float](repeating: 0, count: dimension)
        for id in sample {
            guard (try? vector.withUnsafeMutableBufferPointer { try store.readVectors(id..<(id + 1), dimension: dimension, into: $0.baseAddress!) }) != nil else { continue }
            vectors += vector
            searched.append(id)
        }
        guard !searched.isEmpty else { return result }
        let (scores, ids) = try vectors.withUnsafeBufferPointer { try index.search($0.baseAddress!, count: searched.count, k: 1) }
        for (row, id) in searched.enumerated() {
            // A duplicate passage may come first with the same score; anything else is wrong.
            let own = vectors[(row * dimension)..<((row + 1) * dimension)].reduce(Float(0)) { $0 + $1 * $1 }
            let expectedScore = index.metric == .l2 ? 0 : own
            if ids[row] != Int64(id) && abs(scores[row] - expectedScore) > 1e-4 * max(1, abs(expectedScore)) {
                result.report("\(faissPath): stored vector \(id) does not find itself (best: \(ids[row]) at \(scores[row])); run `densekit index rebuild`")
            }
        }
        return result
    }

    /// Why the file on disk cannot be used as recorded; nil when it can.
    private func problem(with record: IndexRecord, manifest: StoreManifest, generation: Int, count: Int) -> String? {
        guard FileManager.default.fileExists(atPath: faissPath) else { return "missing" }
        guard record.factory == manifest.factory, record.metric == manifest.metric else {
            return "built as \"\(record.factory)\" (\(record.metric)), the store asks for \"\(manifest.factory)\" (\(manifest.metric))"
        }
        guard record.generation == generation else { return "older than replaced vectors in the store" }
        guard record.covered <= count else { return "covers \(record.covered) vectors but the store has \(count)" }
        guard let (crc, size) = try? CRC32.file(faissPath) else { return "unreadable" }
        guard size == record.fileSize else { return "\(size) bytes, \(record.fileSize) recorded (truncated?)" }
        guard crc == record.crc32 else { return "checksum differs from the recorded one (corrupt or replaced)" }
        if let dataFile = record.dataFile {
            let dataPath = path + "/" + dataFile
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: dataPath) else { return "its lists' file \(dataFile) is missing" }
            guard (attributes[.size] as? Int) == record.dataSize else { return "its lists' file \(dataFile) is \(attributes[.size] as? Int ?? 0) bytes, \(record.dataSize ?? 0) recorded (truncated?)" }
        }
        return nil
    }

    /// Internal ids of the vectors an index is trained on: `size` of the `count` stored (all of
    /// them when fewer), evenly spaced, so the sample covers the collection and is the same
    /// every time.
    private func trainingSample(count: Int, size: Int) -> [Int] {
        let size = min(count, size)
        guard size > 0 else { return [] }
        return (0..<size).map { $0 * count / size }
    }

    /// Vectors read from the store at a time by scans (adding to FAISS, sampling for training),
    /// after which the store's pages are released from the process's memory map.
    static let scanChunk = 16_384

    private func add(to index: FaissIndex, range: Range<Int>, dimension: Int) throws {
        let chunk = Self.scanChunk
        var vectors = [Float](repeating: 0, count: min(chunk, range.count) * dimension)
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + chunk, range.upperBound)
            let ids = (start..<end).map(Int64.init)
            try vectors.withUnsafeMutableBufferPointer { buffer in
                try store.readVectors(start..<end, dimension: dimension, into: buffer.baseAddress!)
                try index.add(buffer.baseAddress!, count: end - start, ids: ids)
            }
            store.releaseMappedPages()
            start = end
        }
    }

    /// Writes the index beside the store atomically, then records it in the store; in a
    /// read-only folder it only says that the index lives in memory.
    private func save(_ index: FaissIndex, factory: String, metric: String, covered: Int, generation: Int, log: (String) -> Void) throws {
        let repairLock = !readOnly && lock == nil ? try? BuildLock(folder: path) : nil
        defer { withExtendedLifetime(repairLock) {} }
        guard !readOnly, lock != nil || repairLock != nil else {
            if let writer = beingBuiltBy ?? (readOnly ? nil : BuildLock.holder(of: path)) {
                log("note: \(path) is being built by PID \(writer): this process keeps its up-to-date FAISS index in memory")
            } else {
                log("warning: \(path) is read-only: the repaired FAISS index lives in memory only; run `densekit index rebuild` where the folder is writable")
            }
            return
        }
        let temporary = faissPath + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        // Lists on disk go to a file of their own under a name never used before, so that the
        // index file in place always names a whole lists file (a kill between the steps leaves
        // the old pair, or the new one, recorded) and readers that mapped the old file (a
        // server) keep reading it until they close it.
        let dataFile = index.hasListsOnDisk ? "faiss-\(covered)-\(UInt64(Date().timeIntervalSince1970 * 1e6)).ivfdata" : nil
        if let dataFile {
            try index.writeOnDisk(to: temporary, dataPath: path + "/" + dataFile)
        } else {
            try index.write(to: temporary)
            if let handle = FileHandle(forUpdatingAtPath: temporary) {
                try handle.synchronize()
                try handle.close()
            }
        }
        let (crc, size) = try CRC32.file(temporary)
        guard rename(temporary, faissPath) == 0 else {
            throw IndexError.invalid("\(faissPath): cannot move the new index into place: \(String(cString: strerror(errno)))")
        }
        var record = IndexRecord(factory: factory, metric: metric, covered: covered, generation: generation, fileSize: size, crc32: crc)
        if let dataFile {
            record.dataFile = dataFile
            record.dataSize = (try? FileManager.default.attributesOfItem(atPath: path + "/" + dataFile)[.size] as? Int) ?? nil
        }
        try store.setIndexRecord(record)
        // Lists files no index names any more.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasSuffix(".ivfdata") && name != dataFile {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// The lists file an on-disk IVF index grows into while vectors are added.
    static let growingListsFile = "faiss.ivfdata.growing"

    private func metric(_ manifest: StoreManifest) throws -> FaissIndex.Metric {
        guard let metric = FaissIndex.Metric(rawValue: manifest.metric) else {
            throw IndexError.invalid("\(path): unknown metric '\(manifest.metric)' in the manifest")
        }
        return metric
    }
}

/// Sends a status line (what a step is doing) to `status` when given, else to `log` with the
/// warnings: `--quiet` passes a `status` that drops it.
func statusLine(_ message: String, _ status: ((String) -> Void)?, _ log: (String) -> Void) {
    if let status { status(message) } else { log(message) }
}
