// Hugging Face's BertPreTokenizer: split normalized text on whitespace, and make every punctuation
// scalar a word of its own. Words are reported as byte ranges so nothing is copied.

enum BertPreTokenizer {
    private static let asciiClass: [UInt8] = (0..<128).map { (byte: UInt8) -> UInt8 in
        if (0x09...0x0D).contains(byte) || byte == 0x20 { return whitespace }
        if CharacterClasses.isASCIIPunctuation(byte) { return punctuation }
        return wordByte
    }
    private static let wordByte: UInt8 = 0
    private static let whitespace: UInt8 = 1
    private static let punctuation: UInt8 = 2

    /// Calls `body` with the byte range of each word in order; stops early once `body` returns
    /// false. Returns false if it stopped early.
    @inline(__always)
    @discardableResult
    static func forEachWord(
        in text: UnsafeBufferPointer<UInt8>, _ body: (_ start: Int, _ end: Int) -> Bool
    ) -> Bool {
        asciiClass.withUnsafeBufferPointer { classes in
            var wordStart = -1
            var i = 0
            let n = text.count
            while i < n {
                let byte = text[i]
                var kind: UInt8
                var length = 1
                if byte < 0x80 {
                    kind = classes[Int(byte)]
                } else {
                    let (scalar, scalarLength) = UTF8Bytes.decode(text, at: i)
                    length = scalarLength
                    let flags = ScalarFlags.of(scalar)
                    if flags.contains(.whitespace) {
                        kind = whitespace
                    } else if flags.contains(.punctuation) {
                        kind = punctuation
                    } else {
                        kind = wordByte
                    }
                }
                if kind == wordByte {
                    if wordStart < 0 { wordStart = i }
                } else {
                    if wordStart >= 0 {
                        guard body(wordStart, i) else { return false }
                        wordStart = -1
                    }
                    if kind == punctuation {
                        guard body(i, i + length) else { return false }
                    }
                }
                i += length
            }
            if wordStart >= 0 { return body(wordStart, n) }
            return true
        }
    }
}
