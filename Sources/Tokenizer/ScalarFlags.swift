// Everything the normalizer and pre-tokenizer ask about a scalar, as one byte. Swift's Unicode
// property lookups (age, general category, binary properties) took about 60% of the time on
// non-English text, so the answers for the whole BMP are computed once per process, on the first
// non-ASCII scalar (~10 ms); scalars beyond the BMP are rare enough to compute each time.

struct ScalarFlags: OptionSet, Sendable {
    let rawValue: UInt8

    /// `clean_text` removes it: a control, format or private-use character, or U+FFFD.
    static let removedByCleanText = ScalarFlags(rawValue: 1 << 0)
    static let whitespace = ScalarFlags(rawValue: 1 << 1)
    static let punctuation = ScalarFlags(rawValue: 1 << 2)
    static let nonspacingMark = ScalarFlags(rawValue: 1 << 3)
    /// Canonical combining class other than 0, in Unicode 9.0 as HF's NFD sees it.
    static let nonStarter = ScalarFlags(rawValue: 1 << 4)
    /// NFD (Unicode 9.0) changes it.
    static let decomposes = ScalarFlags(rawValue: 1 << 5)
    static let changesWhenLowercased = ScalarFlags(rawValue: 1 << 6)
    static let cjkIdeograph = ScalarFlags(rawValue: 1 << 7)

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarFlags {
        let v = scalar.value
        if v < 0x10000 {
            return bmp.withUnsafeBufferPointer { ScalarFlags(rawValue: $0[Int(v)]) }
        }
        return compute(scalar)
    }

    static func compute(_ scalar: Unicode.Scalar) -> ScalarFlags {
        var flags: ScalarFlags = []
        if scalar.value == 0xFFFD || CharacterClasses.isControl(scalar) { flags.insert(.removedByCleanText) }
        if CharacterClasses.isWhitespace(scalar) { flags.insert(.whitespace) }
        if CharacterClasses.isPunctuation(scalar) { flags.insert(.punctuation) }
        if CharacterClasses.isNonspacingMark(scalar) { flags.insert(.nonspacingMark) }
        if CanonicalDecomposition.combiningClass(scalar) != 0 { flags.insert(.nonStarter) }
        if CanonicalDecomposition.hasDecomposition(scalar) { flags.insert(.decomposes) }
        // Verified equal to `lowercaseMapping != scalar` for every scalar, and much cheaper.
        if scalar.properties.changesWhenLowercased { flags.insert(.changesWhenLowercased) }
        if CharacterClasses.isCJKIdeograph(scalar.value) { flags.insert(.cjkIdeograph) }
        return flags
    }

    private static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        var v: UInt32 = 0
        while v < 0x10000 {
            // Large uniform blocks are filled without asking: unified ideographs, Hangul
            // syllables (all decompose), surrogates (not scalars), private use (removed).
            switch v {
            case 0x3400...0x4DBF, 0x4E00...0x9FFF:
                table[Int(v)] = ScalarFlags.cjkIdeograph.rawValue
            case 0xAC00...0xD7A3:
                table[Int(v)] = ScalarFlags.decomposes.rawValue
            case 0xD800...0xDFFF:
                break
            case 0xE000...0xF8FF:
                table[Int(v)] = ScalarFlags.removedByCleanText.rawValue
            default:
                if let scalar = Unicode.Scalar(v) { table[Int(v)] = compute(scalar).rawValue }
            }
            v += 1
        }
        return table
    }()
}
