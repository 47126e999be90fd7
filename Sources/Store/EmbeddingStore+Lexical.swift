import Foundation

/// One entry of a term's posting list: the passage's internal id (big-endian, so LMDB's byte
/// order is id order) and how often the term occurs in it.
public struct LexicalPosting: Sendable, Equatable {
    public var id: Int
    public var frequency: Int

    public init(id: Int, frequency: Int) {
        self.id = id
        self.frequency = frequency
    }

    /// 8 bytes: UInt32 id big-endian, UInt32 frequency little-endian.
    public static let size = 8

    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return bytes
    }

    func append(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(id).bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(clamping: frequency).littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Corpus-wide counts BM25 needs, kept in the same transactions as the postings.
public struct LexicalStatistics: Codable, Equatable, Sendable {
    /// Passages indexed.
    public var documents = 0
    /// Sum of their lengths in terms (average length = totalLength / documents).
    public var totalLength = 0

    public init() {}
}

/// The postings of a batch of new passages, grouped by term, to be written in bulk.
struct LexicalBatch {
    var postings: [String: [UInt8]] = [:]
    var lengths: [(id: Int, length: Int)] = []

    mutating func add(_ id: Int, terms: [String: Int]) {
        var length = 0
        for (term, frequency) in terms {
            LexicalPosting(id: id, frequency: frequency).append(to: &postings[term, default: []])
            length += frequency
        }
        lengths.append((id, length))
    }
}

extension EmbeddingStore {
    static let lexicalStatisticsKey = "lexical"

    /// The counts of the lexical index; nil when the store has none.
    public func lexicalStatistics() throws -> LexicalStatistics? { try readMeta(Self.lexicalStatisticsKey) }

    /// Every passage's length in terms, by internal id (0 for ids without one).
    public func lexicalLengths(count: Int) throws -> [UInt32] {
        guard let lengths else { return [] }
        var result = [UInt32](repeating: 0, count: count)
        try environment.read { txn in
            try txn.scan(lengths) { key, value in
                let id = Self.id(key)
                if id < count, value.count == 4 { result[id] = UInt32(littleEndian: value.loadUnaligned(as: UInt32.self)) }
                return true
            }
        }
        return result
    }

    /// For each term of `terms` in order, tells `begin` its document frequency (how many
    /// postings it has), then hands `body` its postings a page at a time (`LexicalPosting.size`
    /// bytes each, by id); a term without postings is skipped. One read transaction for all.
    public func withPostings(_ terms: [String], begin: (_ term: Int, _ documentFrequency: Int) throws -> Void,
                             _ body: (_ term: Int, _ page: UnsafeRawBufferPointer) throws -> Void) throws {
        guard let postings else { return }
        try environment.read { txn in
            for (index, term) in terms.enumerated() {
                try txn.forEachDuplicatePage(Array(term.utf8), in: postings, begin: { try begin(index, $0) }) { try body(index, $0) }
            }
        }
    }

    /// Reads the posting at `offset` of a page handed out by `withPostings`.
    @inline(__always)
    public static func posting(in page: UnsafeRawBufferPointer, at index: Int) -> (id: Int, frequency: Int) {
        let offset = index * LexicalPosting.size
        let id = UInt32(bigEndian: page.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let frequency = UInt32(littleEndian: page.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        return (Int(id), Int(frequency))
    }

    /// Rebuilds the lexical index from the stored passages with `analyze`, in transactions of
    /// `batch` passages; a kill leaves a partial index that the next rebuild starts over.
    public func rebuildLexical(analyze: (String) -> [String: Int], batch: Int = 8_192, progress: (Int) -> Void = { _ in }) throws {
        guard let postings, let lengths else {
            throw StoreError.io(path: path, reason: "opened read-only: cannot rebuild the lexical index")
        }
        let count = try count()
        try environment.write { txn in
            try txn.clear(postings)
            try txn.clear(lengths)
            try writeMeta(Self.lexicalStatisticsKey, LexicalStatistics(), txn)
        }
        var start = 0
        while start < count {
            let end = min(start + batch, count)
            try environment.write { txn in
                var statistics: LexicalStatistics = try readMeta(Self.lexicalStatisticsKey, txn) ?? LexicalStatistics()
                var batch = LexicalBatch()
                for id in start..<end {
                    guard let key = try txn.get(Self.key(id), in: external) else { continue }
                    let text = try txn.withValue(key, in: passages) { $0.map { String(decoding: $0, as: UTF8.self) } } ?? ""
                    batch.add(id, terms: analyze(text))
                }
                try write(batch, txn, &statistics)
                try writeMeta(Self.lexicalStatisticsKey, statistics, txn)
            }
            start = end
            progress(end)
        }
    }

    /// Writes a batch's postings, one bulk put per term (ids ascending within each term, as
    /// the batch collected them), and its lengths.
    func write(_ batch: LexicalBatch, _ txn: LMDBTransaction, _ statistics: inout LexicalStatistics) throws {
        guard let postings, let lengths else { return }
        for (term, bytes) in batch.postings {
            try bytes.withUnsafeBytes { try txn.putDuplicates(Array(term.utf8), $0, size: LexicalPosting.size, in: postings) }
        }
        for (id, length) in batch.lengths {
            try txn.put(Self.key(id), withUnsafeBytes(of: UInt32(clamping: length).littleEndian) { Array($0) }, in: lengths, append: true)
            statistics.documents += 1
            statistics.totalLength += length
        }
    }

    /// Adds one passage's postings and length (or, `removing`, takes them back: a replaced
    /// passage's old text).
    func updateLexical(_ id: Int, terms: [String: Int], removing: Bool = false, _ txn: LMDBTransaction, _ statistics: inout LexicalStatistics) throws {
        guard let postings, let lengths else { return }
        var length = 0
        for (term, frequency) in terms {
            let posting = LexicalPosting(id: id, frequency: frequency).bytes
            if removing { try txn.delete(Array(term.utf8), value: posting, in: postings) } else { try txn.put(Array(term.utf8), posting, in: postings) }
            length += frequency
        }
        if removing {
            try txn.delete(Self.key(id), value: nil, in: lengths)
        } else {
            try txn.put(Self.key(id), withUnsafeBytes(of: UInt32(clamping: length).littleEndian) { Array($0) }, in: lengths)
        }
        statistics.documents += removing ? -1 : 1
        statistics.totalLength += removing ? -length : length
    }
}
