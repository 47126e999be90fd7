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
    static let size = 8

    var bytes: [UInt8] {
        withUnsafeBytes(of: UInt32(id).bigEndian) { Array($0) } + withUnsafeBytes(of: UInt32(clamping: frequency).littleEndian) { Array($0) }
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

    /// Calls `body` with the pages of postings (`LexicalPosting.size` bytes each, by id) of each
    /// term in `terms`, in the order given, then `termDone` after each term (also for a term
    /// without postings); one read transaction for all.
    public func withPostings(_ terms: [String], _ body: (_ term: Int, _ page: UnsafeRawBufferPointer) throws -> Void,
                             termDone: (_ term: Int) throws -> Void) throws {
        guard let postings else { return }
        try environment.read { txn in
            for (index, term) in terms.enumerated() {
                try txn.forEachDuplicatePage(Array(term.utf8), in: postings) { try body(index, $0) }
                try termDone(index)
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
                for id in start..<end {
                    guard let key = try txn.get(Self.key(id), in: external) else { continue }
                    let text = try txn.withValue(key, in: passages) { $0.map { String(decoding: $0, as: UTF8.self) } } ?? ""
                    try addLexical(id, terms: analyze(text), txn, &statistics)
                }
                try writeMeta(Self.lexicalStatisticsKey, statistics, txn)
            }
            start = end
            progress(end)
        }
    }

    func addLexical(_ id: Int, terms: [String: Int], _ txn: LMDBTransaction, _ statistics: inout LexicalStatistics) throws {
        guard let postings, let lengths else { return }
        var length = 0
        for (term, frequency) in terms {
            try txn.put(Array(term.utf8), LexicalPosting(id: id, frequency: frequency).bytes, in: postings)
            length += frequency
        }
        try txn.put(Self.key(id), withUnsafeBytes(of: UInt32(clamping: length).littleEndian) { Array($0) }, in: lengths)
        statistics.documents += 1
        statistics.totalLength += length
    }

    func removeLexical(_ id: Int, terms: [String: Int], _ txn: LMDBTransaction, _ statistics: inout LexicalStatistics) throws {
        guard let postings, let lengths else { return }
        var length = 0
        for (term, frequency) in terms {
            try txn.delete(Array(term.utf8), value: LexicalPosting(id: id, frequency: frequency).bytes, in: postings)
            length += frequency
        }
        try txn.delete(Self.key(id), value: nil, in: lengths)
        statistics.documents -= 1
        statistics.totalLength -= length
    }
}
