// Hugging Face matches added tokens ([CLS], [SEP], [MASK], ...) in the text before normalizing:
// "a [MASK] b" encodes [MASK] as its own id, not as "[", "mask", "]". Matching is case-sensitive,
// leftmost-longest like its Aho-Corasick automaton, and the text between matches is normalized
// and split on its own. Tokens flagged `normalized` are instead matched in normalized text.

/// A token matched in the text before WordPiece runs.
struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int32
    /// Matched against normalized rather than raw text.
    var normalized: Bool
}

struct AddedTokenMatcher: Sendable {
    private struct Pattern {
        var bytes: [UInt8]
        var id: Int32
    }

    /// Longest first, so the first pattern that matches at a position is the longest one there.
    private let patterns: [Pattern]
    private let startsPattern: [Bool]

    var isEmpty: Bool { patterns.isEmpty }

    init(_ tokens: [(bytes: [UInt8], id: Int32)]) {
        patterns = tokens.filter { !$0.bytes.isEmpty }.map { Pattern(bytes: $0.bytes, id: $0.id) }
            .sorted { $0.bytes.count > $1.bytes.count }
        var starts = [Bool](repeating: false, count: 256)
        for pattern in patterns { starts[Int(pattern.bytes[0])] = true }
        startsPattern = starts
    }

    enum Piece {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Calls `body` with the stretches of text between matches and with each matched token, in
    /// order; empty stretches are skipped. Stops early once `body` returns false.
    @inline(__always)
    @discardableResult
    func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Piece) -> Bool) -> Bool {
        let n = text.count
        guard !patterns.isEmpty else { return n == 0 || body(.text(0..<n)) }
        var pieceStart = 0
        var i = 0
        while i < n {
            if startsPattern[Int(text[i])], let pattern = longestMatch(in: text, at: i) {
                if pieceStart < i { guard body(.text(pieceStart..<i)) else { return false } }
                guard body(.token(pattern.id)) else { return false }
                i += pattern.bytes.count
                pieceStart = i
            } else {
                i += 1
            }
        }
        if pieceStart < n { return body(.text(pieceStart..<n)) }
        return true
    }

    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at index: Int) -> Pattern? {
        let remaining = text.count - index
        for pattern in patterns where pattern.bytes.count <= remaining {
            var equal = true
            for (k, byte) in pattern.bytes.enumerated() where text[index + k] != byte {
                equal = false
                break
            }
            if equal { return pattern }
        }
        return nil
    }
}
