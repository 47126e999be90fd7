/// Text to the terms BM25 indexes and searches, as bm25s and Lucene's English analyzer do it:
/// lowercase, tokens of two or more word characters (Python's `(?u)\b\w\w+\b`: Unicode
/// letters, digits and `_`), the English stop words Lucene and bm25s remove, then the stemmer
/// (none by default; Porter as Lucene's `EnglishAnalyzer`, or Snowball English as bm25s with
/// PyStemmer), applied after stop-word removal as both do.
///
/// Index and queries go through the same analyzer, recorded in the index manifest.
public struct LexicalAnalyzer: Sendable, Equatable, Codable {
    /// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, which bm25s's "en" list also is.
    public static let englishStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on",
        "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    ]

    /// Remove `englishStopWords`.
    public var removesStopWords: Bool
    public var stemmer: StemmerKind

    /// The analyzer bm25s uses with `stopwords="en"` and no stemmer.
    public init(removesStopWords: Bool = true, stemmer: StemmerKind = .none) {
        self.removesStopWords = removesStopWords
        self.stemmer = stemmer
    }

    /// The terms of `text` in order, repeats kept (term frequencies count them).
    public func terms(_ text: String) -> [String] {
        var terms: [String] = []
        forEachTerm(text) { terms.append($0) }
        return terms
    }

    /// Term frequencies of `text`.
    public func frequencies(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        forEachTerm(text) { counts[$0, default: 0] += 1 }
        return counts
    }

    /// Calls `body` with each term of `text` in order.
    public func forEachTerm(_ text: String, _ body: (String) -> Void) {
        guard let stemming = stemmer.make() else { return forEachToken(text, body) }
        forEachToken(text) { body(stemming.stem($0)) }
    }

    /// `forEachTerm` before stemming.
    ///
    /// ASCII text (nearly all of a typical corpus) is scanned as bytes, lowercased in place;
    /// other text goes through Unicode lowercasing and scalar properties.
    private func forEachToken(_ text: String, _ body: (String) -> Void) {
        var text = text
        let handled: Bool = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return false }
            var term = [UInt8]()
            term.reserveCapacity(32)
            func flush() {
                if term.count >= 2, !(removesStopWords && term.count <= Self.longestStopWord && Self.englishStopWords.contains(String(decoding: term, as: UTF8.self))) {
                    body(String(decoding: term, as: UTF8.self))
                }
                term.removeAll(keepingCapacity: true)
            }
            for byte in bytes {
                switch byte {
                case 0x41...0x5A: term.append(byte | 0x20)
                case 0x61...0x7A, 0x30...0x39, 0x5F: term.append(byte)
                default: flush()
                }
            }
            flush()
            return true
        }
        if handled { return }
        var current = String.UnicodeScalarView()
        var length = 0
        func flush() {
            if length >= 2 {
                let term = String(current)
                if !(removesStopWords && Self.englishStopWords.contains(term)) { body(term) }
            }
            current.removeAll(keepingCapacity: true)
            length = 0
        }
        for scalar in text.lowercased().unicodeScalars {
            if Self.isWordCharacter(scalar) {
                current.append(scalar)
                length += 1
            } else {
                flush()
            }
        }
        flush()
    }

    /// Bytes of the longest stop word: longer terms skip the set lookup.
    static let longestStopWord = englishStopWords.map(\.utf8.count).max() ?? 0

    /// Python's `\w` for str patterns: alphanumeric in Unicode's sense, or underscore.
    @inline(__always)
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v) || v == 0x5F
        }
        let properties = scalar.properties
        // str.isalnum(): letters (categories L*) and characters with a numeric type.
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return properties.numericType != nil
        }
    }
}
