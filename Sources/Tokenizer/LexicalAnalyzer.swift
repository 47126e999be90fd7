/// Text to the terms BM25 indexes and searches, as bm25s and Lucene's English analyzer without
/// stemming do it: lowercase, tokens of two or more word characters (Python's `(?u)\b\w\w+\b`:
/// Unicode letters, digits and `_`), the English stop words Lucene and bm25s remove.
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

    /// The analyzer bm25s uses with `stopwords="en"` and no stemmer.
    public init(removesStopWords: Bool = true) {
        self.removesStopWords = removesStopWords
    }

    /// The terms of `text` in order, repeats kept (term frequencies count them).
    public func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = String.UnicodeScalarView()
        var length = 0
        func flush() {
            if length >= 2 {
                let term = String(current)
                if !(removesStopWords && Self.englishStopWords.contains(term)) { terms.append(term) }
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
        return terms
    }

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
