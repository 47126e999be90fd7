// Character classes exactly as Hugging Face tokenizers computes them for BERT.
//
// HF takes general categories from the `unicode_categories` crate, whose tables are Unicode 8.0
// and whose "unassigned" (Cn) table is empty; whitespace and lowercasing come from Rust's std,
// which tracks current Unicode like Swift does. Using Swift's current categories directly would
// disagree with HF on every punctuation mark, format control and nonspacing mark added since 8.0
// (about 150 scalars, e.g. U+2E50 or U+0890), so categories are pinned to 8.0 here.

enum CharacterClasses {
    /// Unicode 8.0 categories of the scalars whose category has changed since. Found by comparing
    /// HF's behaviour with Swift's tables for every scalar; only changes that move a scalar into
    /// or out of P*, Mn or C* matter to BERT and are listed.
    /// Unicode 8.0 categories of the scalars whose category has changed since. Found by comparing
    /// HF's behaviour with Swift's tables for every scalar; only changes that move a scalar into
    /// or out of P*, Mn or C* matter to BERT and are listed.
    private static func unicode8Override(_ value: UInt32) -> Unicode.GeneralCategory? {
        switch value {
        case 0x166D: return .otherPunctuation  // CANADIAN SYLLABICS CHI SIGN, So today
        case 0x111C9: return .otherPunctuation  // SHARADA SANDHI MARK, Mn today
        case 0x1885, 0x1886: return .otherLetter  // MONGOLIAN LETTER ALI GALI BALUDA/THREE BALUDA, Mn today
        case 0xA9BD: return .spacingMark  // JAVANESE CONSONANT SIGN KERET, Mn today
        case 0x1734: return .nonspacingMark  // HANUNOO SIGN PAMUDPOD, Mc today
        case 0x1171E: return .nonspacingMark  // AHOM CONSONANT SIGN MEDIAL RA, Mc today
        default: return nil
        }
    }

    /// The general category HF sees, or nil for scalars Unicode 8.0 had not assigned: the crate
    /// reports those as belonging to no category at all, not even Cn.
    static func category(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory? {
        if let pinned = unicode8Override(scalar.value) { return pinned }
        guard let age = scalar.properties.age, age.major < 8 || (age.major == 8 && age.minor == 0)
        else { return nil }
        return scalar.properties.generalCategory
    }

    /// `clean_text` drops these: Cc, Cf, Co (Cs cannot occur in a Swift string). Tab, newline and
    /// carriage return are controls too, but BERT treats them as whitespace instead.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        switch category(scalar) {
        case .control?, .format?, .privateUse?, .surrogate?: return true
        default: return false
        }
    }

    /// Unicode White_Space, as Rust's `char::is_whitespace`. Vertical tab and form feed are in it
    /// but never reach the whitespace mapping with `clean_text` on: as controls they are dropped first.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20: return true
        case 0..<0x80: return false
        default: return scalar.properties.isWhitespace
        }
    }

    /// BERT counts all non-alphanumeric ASCII as punctuation ("$", "+", "^", "`" are symbols in
    /// Unicode) in addition to every P* scalar.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 { return isASCIIPunctuation(UInt8(v)) }
        switch category(scalar) {
        case .connectorPunctuation?, .dashPunctuation?, .openPunctuation?, .closePunctuation?,
            .initialPunctuation?, .finalPunctuation?, .otherPunctuation?:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isASCIIPunctuation(_ byte: UInt8) -> Bool {
        (33...47).contains(byte) || (58...64).contains(byte) || (91...96).contains(byte)
            || (123...126).contains(byte)
    }

    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        category(scalar) == .nonspacingMark
    }

    /// The CJK Unified Ideograph blocks BERT isolates; Hiragana, Katakana and Hangul are not among
    /// them, those scripts are written with spaces.
    static func isCJKIdeograph(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
