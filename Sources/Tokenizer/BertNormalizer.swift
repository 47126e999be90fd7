// Hugging Face's BertNormalizer, in its order: clean text, space out CJK ideographs, strip accents
// (NFD, then drop nonspacing marks), lowercase scalar by scalar.
//
// ASCII bytes go through a lookup table. Other scalars are collected in runs: NFD may reorder
// combining marks, and only within a run of non-ASCII scalars, because ASCII characters are
// starters that never decompose. Dropped control characters do not end a run, since HF removes
// them before decomposing and the marks around them become neighbours.

struct BertNormalizer: Sendable {
    let cleanText: Bool
    let handleChineseChars: Bool
    let stripAccents: Bool
    let lowercase: Bool

    /// What each ASCII byte becomes: itself, its lowercase, a space, or `drop`.
    private let asciiMap: [UInt16]
    private static let drop: UInt16 = 0x100

    init(cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool, lowercase: Bool) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
        asciiMap = (0..<128).map { (byte: UInt16) -> UInt16 in
            if cleanText {
                switch byte {
                case 0x09, 0x0A, 0x0D: return 0x20
                case 0..<0x20, 0x7F: return BertNormalizer.drop
                default: break
                }
            }
            if lowercase, (0x41...0x5A).contains(byte) { return byte + 0x20 }
            return byte
        }
    }

    /// Scratch space reused across calls so that normalizing allocates nothing in steady state.
    struct Scratch {
        var run: [Unicode.Scalar] = []
        var decomposed: [Unicode.Scalar] = []
    }

    /// Appends the normalized UTF-8 form of `input` to `output`.
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8], scratch: inout Scratch) {
        scratch.run.removeAll(keepingCapacity: true)
        asciiMap.withUnsafeBufferPointer { map in
            var i = 0
            let n = input.count
            while i < n {
                let byte = input[i]
                if byte < 0x80 {
                    let mapped = map[Int(byte)]
                    i += 1
                    if mapped == BertNormalizer.drop { continue }
                    if !scratch.run.isEmpty { flush(&scratch, into: &output) }
                    output.append(UInt8(truncatingIfNeeded: mapped))
                    continue
                }
                let (scalar, length) = UTF8Bytes.decode(input, at: i)
                i += length
                let flags = ScalarFlags.of(scalar)
                if cleanText {
                    if flags.contains(.removedByCleanText) { continue }
                    if flags.contains(.whitespace) {
                        if !scratch.run.isEmpty { flush(&scratch, into: &output) }
                        output.append(0x20)
                        continue
                    }
                }
                if handleChineseChars && flags.contains(.cjkIdeograph) {
                    // Compatibility ideographs (U+F900...) still decompose, so the scalar goes
                    // through the run machinery, alone between its spaces.
                    if !scratch.run.isEmpty { flush(&scratch, into: &output) }
                    output.append(0x20)
                    scratch.run.append(scalar)
                    flush(&scratch, into: &output)
                    output.append(0x20)
                    continue
                }
                scratch.run.append(scalar)
            }
            if !scratch.run.isEmpty { flush(&scratch, into: &output) }
        }
    }

    private func flush(_ scratch: inout Scratch, into output: inout [UInt8]) {
        defer { scratch.run.removeAll(keepingCapacity: true) }
        guard stripAccents else {
            for scalar in scratch.run { emit(scalar, ScalarFlags.of(scalar), into: &output) }
            return
        }
        scratch.decomposed.removeAll(keepingCapacity: true)
        var previousWasNonStarter = false
        var needsOrdering = false
        for scalar in scratch.run {
            if ScalarFlags.of(scalar).contains(.decomposes) {
                CanonicalDecomposition.appendDecomposition(of: scalar, to: &scratch.decomposed)
            } else {
                scratch.decomposed.append(scalar)
            }
        }
        // Reordering can only change something where two non-starters meet; a lone accent,
        // by far the common case, skips the combining class lookups.
        for scalar in scratch.decomposed {
            let nonStarter = ScalarFlags.of(scalar).contains(.nonStarter)
            if nonStarter && previousWasNonStarter {
                needsOrdering = true
                break
            }
            previousWasNonStarter = nonStarter
        }
        if needsOrdering { CanonicalDecomposition.canonicallyOrder(&scratch.decomposed, from: 0) }
        for scalar in scratch.decomposed {
            let flags = ScalarFlags.of(scalar)
            if !flags.contains(.nonspacingMark) { emit(scalar, flags, into: &output) }
        }
    }

    @inline(__always)
    private func emit(_ scalar: Unicode.Scalar, _ flags: ScalarFlags, into output: inout [UInt8]) {
        guard lowercase, flags.contains(.changesWhenLowercased) else {
            UTF8Bytes.append(scalar, to: &output)
            return
        }
        // Full mapping per scalar, as Rust's `char::to_lowercase`: U+0130 becomes "i\u{307}" and
        // a final capital sigma becomes σ, not ς.
        for lowered in scalar.properties.lowercaseMapping.unicodeScalars {
            UTF8Bytes.append(lowered, to: &output)
        }
    }
}
