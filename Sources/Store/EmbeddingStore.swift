import CLMDB
import DensekitTensor
import Foundation

/// The source of truth of an index: passages, their vectors and id maps in one LMDB environment.
///
/// Databases:
/// - `passages`: external id (UTF-8) -> passage text (UTF-8)
/// - `vectors`: internal id (8-byte big-endian) -> `dimension` float32s
/// - `ids`: external id -> internal id; `external`: internal id -> external id
/// - `meta`: `manifest`, `progress`, `generation`, `index` (JSON)
/// - `checksums`: internal id -> CRC-32 of the vector's bytes (4 bytes, little-endian), written in
///   the same transaction as the vector and checked whenever vectors are read, so a damaged
///   vector is reported with its passage id instead of being indexed. Stores written before
///   densekit kept checksums lack it for their older vectors.
///
/// Internal ids are dense, `0..<count`, in the order passages were first stored; FAISS uses them
/// as its labels. Each `append` is one transaction, so the store is always at a batch boundary.
public final class EmbeddingStore: @unchecked Sendable {
    /// What to do with an external id that is already stored.
    public enum DuplicatePolicy: String, Sendable, CaseIterable {
        /// Stop with an error; nothing of the offending batch is stored.
        case error
        /// Keep the stored passage, drop the new one.
        case skip
        /// Overwrite text and vector under the same internal id.
        case replace
    }

    public let path: String
    let environment: LMDBEnvironment
    let passages: LMDBDatabase, vectors: LMDBDatabase, ids: LMDBDatabase, external: LMDBDatabase, meta: LMDBDatabase
    /// nil in a store opened read-only that was written before checksums were kept.
    let checksums: LMDBDatabase?
    /// The lexical (BM25) index: term -> (internal id, term frequency) postings, sorted by id
    /// (`LexicalPosting`), and internal id -> document length in terms. nil in a read-only
    /// store written before densekit kept one.
    let postings: LMDBDatabase?, lengths: LMDBDatabase?

    /// Opens the store in folder `path`, creating it when `create` is true.
    /// - Parameter reads: `.random` for searching (a few pages at scattered places per query).
    public init(path: String, create: Bool = false, readOnly: Bool = false, reads: LMDBEnvironment.ReadPattern = .sequential) throws {
        self.path = path
        let environment = try LMDBEnvironment(path: path, create: create, readOnly: readOnly, reads: reads)
        self.environment = environment
        func open(_ name: String) throws -> LMDBDatabase {
            readOnly ? try environment.existingDatabase(name) : try environment.database(name)
        }
        passages = try open("passages")
        vectors = try open("vectors")
        ids = try open("ids")
        external = try open("external")
        meta = try open("meta")
        do { checksums = try open("checksums") } catch let error as StoreError where readOnly && error.code == MDB_NOTFOUND {
            checksums = nil
        }
        // Both or neither: a store written before densekit kept a lexical index has neither.
        let lexical: (postings: LMDBDatabase, lengths: LMDBDatabase)?
        do {
            lexical = (readOnly ? try environment.existingDatabase("postings", fixedDuplicates: true) : try environment.database("postings", fixedDuplicates: true),
                       try open("lengths"))
        } catch let error as StoreError where readOnly && error.code == MDB_NOTFOUND {
            lexical = nil
        }
        postings = lexical?.postings
        lengths = lexical?.lengths
    }

    /// Drops this process's mapping of the pages read so far (they stay in the page cache):
    /// bulk scans call it after each chunk, so that their resident set is a chunk, not the
    /// store (`LMDBEnvironment.releaseMappedPages`).
    public func releaseMappedPages() { environment.releaseMappedPages() }

    // MARK: Metadata

    /// The manifest; nil for a new, empty store.
    public func manifest() throws -> StoreManifest? { try readMeta("manifest") }

    /// Writes the manifest (once, when the store is created).
    public func setManifest(_ manifest: StoreManifest) throws {
        try environment.write { try writeMeta("manifest", manifest, $0) }
    }

    /// How far the build has got (zeros for a new store).
    public func progress() throws -> BuildProgress { try readMeta("progress") ?? BuildProgress() }

    /// Marks the build complete (the whole source was read).
    public func markComplete() throws {
        try environment.write { txn in
            var progress: BuildProgress = try readMeta("progress", txn) ?? BuildProgress()
            progress.complete = true
            try writeMeta("progress", progress, txn)
        }
    }

    /// Bumped whenever stored vectors change in place (`replace`), so an index built before is
    /// known to be stale.
    public func generation() throws -> Int { try readMeta("generation") ?? 0 }

    /// The saved FAISS index's record; nil when none was saved.
    public func indexRecord() throws -> IndexRecord? { try readMeta("index") }

    /// Records the FAISS file just saved beside the store.
    public func setIndexRecord(_ record: IndexRecord) throws {
        try environment.write { try writeMeta("index", record, $0) }
    }

    /// Number of stored passages (= vectors = next internal id).
    public func count() throws -> Int { try environment.read { try $0.count(external) } }

    // MARK: Writing

    /// What one `append` did.
    public struct AppendResult: Equatable, Sendable {
        public var stored = 0, skipped = 0, replaced = 0

        /// Counts of passages stored, skipped as duplicates and replaced.
        public init(stored: Int = 0, skipped: Int = 0, replaced: Int = 0) {
            self.stored = stored
            self.skipped = skipped
            self.replaced = replaced
        }
    }

    /// Stores a batch of passages with their vectors in one transaction, together with the
    /// build progress after it. Either all of it is stored or (on error) none of it.
    ///
    /// - Parameters:
    ///   - records: `(external id, text, source description for errors)`.
    ///   - vectors: `records.count * dimension` floats, row `i` for `records[i]`.
    ///   - lexical: the analyzer of the lexical index (term -> frequency), when the store keeps
    ///     one: postings and lengths are written in the same transaction.
    public func append(_ records: [(id: String, text: String, origin: String)], vectors values: [Float], dimension: Int,
                       policy: DuplicatePolicy, progress: BuildProgress, lexical: ((String) -> [String: Int])? = nil) throws -> AppendResult {
        precondition(values.count == records.count * dimension)
        return try environment.write { txn in
            var next = try txn.count(external)
            var result = AppendResult()
            var progress = progress
            var generation: Int = try readMeta("generation", txn) ?? 0
            var statistics: LexicalStatistics = try readMeta(Self.lexicalStatisticsKey, txn) ?? LexicalStatistics()
            var newPostings = LexicalBatch()
            try values.withUnsafeBytes { raw in
                for (row, record) in records.enumerated() {
                    let key = Array(record.id.utf8)
                    let vector = UnsafeRawBufferPointer(rebasing: raw[(row * dimension * 4)..<((row + 1) * dimension * 4)])
                    let checksum = withUnsafeBytes(of: CRC32.checksum(vector).littleEndian) { Array($0) }
                    if let existing = try txn.get(key, in: ids) {
                        switch policy {
                        case .error: throw StoreError.duplicateId(path: path, id: record.id, source: record.origin)
                        case .skip:
                            result.skipped += 1
                            continue
                        case .replace:
                            if let lexical {
                                let oldText = try txn.withValue(key, in: passages) { $0.map { String(decoding: $0, as: UTF8.self) } } ?? ""
                                try updateLexical(Self.id(existing), terms: lexical(oldText), removing: true, txn, &statistics)
                                try updateLexical(Self.id(existing), terms: lexical(record.text), txn, &statistics)
                            }
                            try txn.put(key, Array(record.text.utf8), in: passages)
                            try txn.put(existing, vector, in: vectors)
                            if let checksums { try txn.put(existing, checksum, in: checksums) }
                            result.replaced += 1
                            continue
                        }
                    }
                    let internalKey = Self.key(next)
                    try txn.put(key, Array(record.text.utf8), in: passages)
                    try txn.put(key, internalKey, in: ids)
                    try txn.put(internalKey, key, in: external, append: true)
                    try txn.put(internalKey, vector, in: vectors, append: true)
                    if let checksums { try txn.put(internalKey, checksum, in: checksums, append: true) }
                    if let lexical { newPostings.add(next, terms: lexical(record.text)) }
                    next += 1
                    result.stored += 1
                }
            }
            progress.skippedDuplicates += result.skipped
            progress.replacedDuplicates += result.replaced
            try writeMeta("progress", progress, txn)
            if lexical != nil {
                try write(newPostings, txn, &statistics)
                try writeMeta(Self.lexicalStatisticsKey, statistics, txn)
            }
            if result.replaced > 0 {
                generation += 1
                try writeMeta("generation", generation, txn)
            }
            return result
        }
    }

    /// Records progress without storing passages (a batch made only of bad lines).
    public func setProgress(_ progress: BuildProgress) throws {
        try environment.write { try writeMeta("progress", progress, $0) }
    }

    // MARK: Reading

    /// Copies the vectors with internal ids in `range` into `output` (row-major), checking each
    /// against its checksum.
    ///
    /// - Throws: `StoreError.corrupt` naming the passage whose vector is missing, of the wrong
    ///   size or does not match its checksum.
    public func readVectors(_ range: Range<Int>, dimension: Int, into output: UnsafeMutablePointer<Float>) throws {
        guard !range.isEmpty else { return }
        try environment.read { txn in
            var expected = range.lowerBound
            try txn.scan(vectors, from: Self.key(range.lowerBound)) { key, value in
                let id = Self.id(key)
                guard id < range.upperBound else { return false }
                guard id == expected, value.count == dimension * 4 else {
                    throw StoreError.corrupt(path: path, reason: "vector \(id) (expected id \(expected), \(value.count) bytes for dimension \(dimension))")
                }
                if let problem = try checksumProblem(id: id, vector: value, txn) {
                    throw StoreError.corrupt(path: path, reason: "\(try describe(id, txn)): \(problem); restore the store or build the index again")
                }
                UnsafeMutableRawPointer(output + (id - range.lowerBound) * dimension).copyMemory(from: value.baseAddress!, byteCount: value.count)
                expected += 1
                return true
            }
            guard expected == range.upperBound else {
                throw StoreError.corrupt(path: path, reason: "vectors \(expected)..<\(range.upperBound) are missing")
            }
        }
    }

    /// The stored vectors of `internalIds` (any order, repeats allowed), row i of `output` for
    /// `internalIds[i]`, each checked against its checksum: the candidates of a search re-scored
    /// exactly (`SearchKnobs.refine`).
    ///
    /// - Throws: `StoreError.corrupt` naming the passage whose vector is missing, of the wrong
    ///   size or does not match its checksum.
    public func readVectors(internalIds: [Int], dimension: Int, into output: UnsafeMutablePointer<Float>) throws {
        guard !internalIds.isEmpty else { return }
        try environment.read { txn in
            for (row, id) in internalIds.enumerated() {
                try txn.withValue(Self.key(id), in: vectors) { value in
                    guard let value, value.count == dimension * 4 else {
                        throw StoreError.corrupt(path: path, reason: "vector \(id) is \(value.map { "\($0.count) bytes" } ?? "missing"), expected \(dimension * 4) bytes for dimension \(dimension)")
                    }
                    if let problem = try checksumProblem(id: id, vector: value, txn) {
                        throw StoreError.corrupt(path: path, reason: "\(try describe(id, txn)): \(problem); restore the store or build the index again")
                    }
                    UnsafeMutableRawPointer(output + row * dimension).copyMemory(from: value.baseAddress!, byteCount: value.count)
                }
            }
        }
    }

    /// Why the stored vector of `id` cannot be trusted; nil when its checksum matches (or it
    /// has none: written before checksums were kept).
    func checksumProblem(id: Int, vector: UnsafeRawBufferPointer, _ txn: LMDBTransaction) throws -> String? {
        guard let checksums else { return nil }
        return try txn.withValue(Self.key(id), in: checksums) { stored -> String? in
            guard let stored else { return nil }
            guard stored.count == 4 else { return "its checksum record is \(stored.count) bytes, not 4" }
            let expected = UInt32(littleEndian: stored.loadUnaligned(as: UInt32.self))
            let actual = CRC32.checksum(vector)
            return expected == actual ? nil : "vector does not match its checksum (stored \(String(expected, radix: 16)), computed \(String(actual, radix: 16)))"
        }
    }

    /// What `verify` found.
    public struct Verification: Sendable {
        /// Vectors read.
        public var records = 0
        /// Vectors whose checksum was compared (the others were stored before checksums were kept).
        public var checksummed = 0
        /// Every problem found, the first `listed` of them described.
        public var problemCount = 0
        public var problems: [String] = []
        public static let listed = 50

        public mutating func report(_ problem: String) {
            problemCount += 1
            if problems.count < Self.listed { problems.append(problem) }
        }
    }

    /// Reads every record and checks it: each vector's size, checksum and values (finite; unit
    /// length when `normalized`, within 1e-3), and that the id maps and passage texts agree
    /// with it. Problems are collected, not thrown, so one pass lists them all.
    ///
    /// - Parameter progress: called with the number of vectors checked so far.
    public func verify(dimension: Int, normalized: Bool, progress: (Int) -> Void = { _ in }) throws -> Verification {
        var result = Verification()
        try environment.read { txn in
            let counts = (vectors: try txn.count(vectors), external: try txn.count(external), ids: try txn.count(ids), passages: try txn.count(passages))
            if counts.vectors != counts.external || counts.ids != counts.external || counts.passages != counts.external {
                result.report("the store's tables disagree: \(counts.vectors) vectors, \(counts.external) internal ids, \(counts.ids) external ids, \(counts.passages) passages")
            }
            var expected = 0
            try txn.scan(vectors) { key, value in
                let id = Self.id(key)
                defer {
                    result.records += 1
                    expected = id + 1
                    if result.records % 16_384 == 0 { progress(result.records) }
                }
                if id != expected { result.report("internal ids \(expected)..<\(id) have no vector") }
                let name = try describe(id, txn)
                guard value.count == dimension * 4 else {
                    result.report("\(name): vector is \(value.count) bytes, dimension \(dimension) needs \(dimension * 4)")
                    return true
                }
                if let checksums, try txn.withValue(Self.key(id), in: checksums, { $0 != nil }) { result.checksummed += 1 }
                if let problem = try checksumProblem(id: id, vector: value, txn) {
                    result.report("\(name): \(problem)")
                    return true
                }
                if let problem = VectorValues.problem(value.bindMemory(to: Float.self), normalized: normalized) { result.report("\(name): \(problem)") }
                guard let externalKey = try txn.get(Self.key(id), in: external) else {
                    result.report("internal id \(id) has no passage id")
                    return true
                }
                if try txn.get(externalKey, in: ids).map({ Self.id($0) }) != id {
                    result.report("\(name): the id map does not lead back to internal id \(id)")
                }
                if try txn.withValue(externalKey, in: passages, { $0 == nil }) {
                    result.report("\(name): passage text missing")
                }
                return true
            }
        }
        progress(result.records)
        return result
    }

    /// "passage 'ID' (internal id N)", for messages.
    func describe(_ id: Int, _ txn: LMDBTransaction) throws -> String {
        let external = try txn.get(Self.key(id), in: self.external).map { String(decoding: $0, as: UTF8.self) }
        return "passage '\(external ?? "?")' (internal id \(id))"
    }

    /// The external id and (when asked) text of each internal id; nil for ids not stored
    /// (FAISS reports missing results as -1).
    public func passages(internalIds: [Int], includeText: Bool = true) throws -> [(id: String, text: String)?] {
        try environment.read { txn in
            try internalIds.map { internalId -> (id: String, text: String)? in
                guard internalId >= 0, let key = try txn.get(Self.key(internalId), in: external) else { return nil }
                let text = includeText ? try txn.withValue(key, in: passages) { $0.map { String(decoding: $0, as: UTF8.self) } } ?? "" : ""
                return (String(decoding: key, as: UTF8.self), text)
            }
        }
    }

    /// The internal id of an external id, nil when not stored.
    public func internalId(of externalId: String) throws -> Int? {
        try environment.read { txn in try txn.get(Array(externalId.utf8), in: ids).map { Self.id($0) } }
    }

    // MARK: Encoding of keys and metadata

    /// Internal ids as 8-byte big-endian keys, so LMDB's byte order is numeric order.
    static func key(_ id: Int) -> [UInt8] { withUnsafeBytes(of: UInt64(id).bigEndian) { Array($0) } }

    static func id(_ key: some Collection<UInt8>) -> Int {
        Int(key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    static func id(_ key: UnsafeRawBufferPointer) -> Int { id(key.bindMemory(to: UInt8.self)) }

    func readMeta<T: Decodable>(_ key: String) throws -> T? {
        try environment.read { try readMeta(key, $0) }
    }

    func readMeta<T: Decodable>(_ key: String, _ txn: LMDBTransaction) throws -> T? {
        guard let bytes = try txn.get(Array(key.utf8), in: meta) else { return nil }
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw StoreError.corrupt(path: path, reason: "metadata '\(key)' does not decode: \(error)")
        }
    }

    func writeMeta<T: Encodable>(_ key: String, _ value: T, _ txn: LMDBTransaction) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try txn.put(Array(key.utf8), Array(try encoder.encode(value)), in: meta)
    }
}
