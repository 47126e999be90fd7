import CStemmer

/// Which stemmer BM25 terms go through. Snowball's C library (libstemmer) does the work: it is
/// what PyStemmer (bm25s's stemmer) wraps, and its `porter` is Porter's 1980 algorithm, the one
/// Lucene's `PorterStemFilter` (in its `EnglishAnalyzer`) implements.
public enum StemmerKind: String, Codable, Sendable, CaseIterable {
    /// No stemming (bm25s's default, and the parity setting).
    case none
    /// Porter (1980), as Lucene's English analyzer.
    case porter
    /// Snowball's English stemmer ("Porter2"), as bm25s with `Stemmer.Stemmer("english")`.
    case english

    /// One stemmer of this kind; nil for `none`.
    ///
    /// A stemmer returns its result in a buffer of its own, so it serves one thread: make one
    /// per text or per worker.
    public func make() -> Stemmer? {
        self == .none ? nil : Stemmer(algorithm: rawValue)
    }
}

/// One Snowball stemmer (not thread-safe: see `StemmerKind.make()`).
public final class Stemmer {
    private let handle: OpaquePointer

    /// nil when libstemmer has no such algorithm (never for `StemmerKind`'s names).
    init?(algorithm: String) {
        guard let handle = sb_stemmer_new(algorithm, "UTF_8") else { return nil }
        self.handle = handle
    }

    deinit { sb_stemmer_delete(handle) }

    /// The stem of `word` (UTF-8 bytes of a lowercase term).
    public func stem(_ word: UnsafeBufferPointer<UInt8>) -> String {
        guard let base = word.baseAddress, let output = sb_stemmer_stem(handle, base, Int32(word.count)) else {
            // Out of memory inside libstemmer: keep the word as it is.
            return String(decoding: word, as: UTF8.self)
        }
        return String(decoding: UnsafeBufferPointer(start: output, count: Int(sb_stemmer_length(handle))), as: UTF8.self)
    }

    /// The stem of `word`.
    public func stem(_ word: String) -> String {
        var word = word
        return word.withUTF8 { stem($0) }
    }
}
