// Hugging Face's WordPiece model: greedy longest-match-first over one pre-tokenized word; pieces
// after the first carry the continuation prefix. A word with more scalars than the limit, or with
// any stretch the vocabulary cannot spell, becomes a single unknown token (not a partial spelling).

struct WordPiece: Sendable {
    let vocabulary: Vocabulary
    let unknownId: Int32
    let maxInputCharsPerWord: Int

    /// Appends the ids for the word in `word` (UTF-8, non-empty) to `ids`.
    @inline(__always)
    func appendIds(of word: UnsafeBufferPointer<UInt8>, to ids: inout [Int32]) {
        guard let base = word.baseAddress, word.count > 0 else { return }
        let n = word.count
        // A byte count within the limit means the scalar count is too, which spares the count.
        if n > maxInputCharsPerWord {
            var scalars = 0
            for byte in word where !UTF8Bytes.isContinuation(byte) { scalars += 1 }
            if scalars > maxInputCharsPerWord {
                ids.append(unknownId)
                return
            }
        }
        // Most words are in the vocabulary whole.
        let whole = vocabulary.id(base, count: n, continuation: false)
        if whole >= 0 {
            ids.append(whole)
            return
        }
        let mark = ids.count
        var start = 0
        while start < n {
            let continuation = start > 0
            let longest = continuation ? vocabulary.maxContinuationLength : vocabulary.maxWordStartLength
            var end = start == 0 ? n - 1 : n  // the whole word was tried above
            if end - start > longest { end = start + longest }
            end = boundary(atOrBefore: end, in: word, after: start)
            var found: Int32 = -1
            while end > start {
                found = vocabulary.id(base + start, count: end - start, continuation: continuation)
                if found >= 0 { break }
                end = boundary(atOrBefore: end - 1, in: word, after: start)
            }
            guard found >= 0 else {
                ids.removeSubrange(mark...)
                ids.append(unknownId)
                return
            }
            ids.append(found)
            start = end
        }
    }

    /// The nearest scalar boundary at or before `index` (and after `start`), so that candidates are
    /// whole scalars, as HF's char-by-char shortening gives.
    @inline(__always)
    private func boundary(atOrBefore index: Int, in word: UnsafeBufferPointer<UInt8>, after start: Int) -> Int {
        var end = index
        while end > start && end < word.count && UTF8Bytes.isContinuation(word[end]) { end -= 1 }
        return end
    }
}
