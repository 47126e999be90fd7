import Foundation

// HF strips accents with the NFD of `unicode-normalization-alignments`, whose data is Unicode 9.0:
// scalars assigned later are not decomposed (U+11938 stays whole) and take part in canonical
// reordering as if their combining class were 0. Swift has no public per-scalar decomposition, so
// the mapping is taken from Foundation's NFD once per process and restricted to scalars of 9.0.

enum CanonicalDecomposition {
    @inline(__always)
    static func isKnownToUnicode9(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 9 || (age.major == 9 && age.minor == 0)
    }

    static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        let ccc = scalar.properties.canonicalCombiningClass.rawValue
        return ccc == 0 || !isKnownToUnicode9(scalar) ? 0 : ccc
    }

    static func hasDecomposition(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v >= 0xC0 && ((0xAC00...0xD7A3).contains(v) || table[v] != nil)
    }

    /// Appends the full canonical decomposition of `scalar` (the scalar itself if it has none).
    static func appendDecomposition(of scalar: Unicode.Scalar, to output: inout [Unicode.Scalar]) {
        let v = scalar.value
        if v < 0xC0 {
            output.append(scalar)
            return
        }
        if let hangul = hangulDecomposition(v) {
            output.append(contentsOf: hangul)
            return
        }
        if let mapped = table[v] {
            output.append(contentsOf: mapped)
        } else {
            output.append(scalar)
        }
    }

    /// Stable-sorts every run of non-starters by combining class, which turns a concatenation of
    /// decompositions into NFD. Runs are a handful of marks at most, so insertion sort it is.
    static func canonicallyOrder(_ scalars: inout [Unicode.Scalar], from start: Int) {
        var i = start + 1
        while i < scalars.count {
            let ccc = combiningClass(scalars[i])
            if ccc != 0 {
                var j = i
                while j > start {
                    let previous = combiningClass(scalars[j - 1])
                    if previous <= ccc || previous == 0 { break }
                    scalars.swapAt(j, j - 1)
                    j -= 1
                }
            }
            i += 1
        }
    }

    private static func hangulDecomposition(_ v: UInt32) -> [Unicode.Scalar]? {
        let index = v &- 0xAC00
        guard index < 11_172 else { return nil }
        var parts: [UInt32] = [0x1100 + index / 588, 0x1161 + (index % 588) / 28]
        if index % 28 != 0 { parts.append(0x11A7 + index % 28) }
        return parts.compactMap(Unicode.Scalar.init)
    }

    /// Scalar value -> decomposition, for the Unicode 9.0 scalars whose NFD differs from
    /// themselves, Hangul syllables excepted (decomposed arithmetically above).
    private static let table: [UInt32: [Unicode.Scalar]] = buildTable()

    private static func buildTable() -> [UInt32: [Unicode.Scalar]] {
        // Every candidate followed by a starter that nothing decomposes into: one Foundation call
        // for all of them, and canonical reordering cannot cross the separators.
        let separator = Unicode.Scalar(UInt8(0x01))
        var candidates: [Unicode.Scalar] = []
        var probe = String.UnicodeScalarView()
        for v in UInt32(0xC0)...0x2FA1F {
            if (0xAC00...0xD7A3).contains(v) || (CharacterClasses.isCJKIdeograph(v) && !(0xF900...0xFAFF).contains(v)
                && !(0x2F800...0x2FA1F).contains(v))
            {
                continue
            }
            guard let scalar = Unicode.Scalar(v), isKnownToUnicode9(scalar) else { continue }
            candidates.append(scalar)
            probe.append(scalar)
            probe.append(separator)
        }
        let decomposed = String(probe).decomposedStringWithCanonicalMapping.unicodeScalars
        var table: [UInt32: [Unicode.Scalar]] = [:]
        var piece: [Unicode.Scalar] = []
        var index = 0
        for scalar in decomposed {
            guard scalar != separator else {
                if index < candidates.count, piece != [candidates[index]] {
                    table[candidates[index].value] = piece
                }
                index += 1
                piece.removeAll(keepingCapacity: true)
                continue
            }
            piece.append(scalar)
        }
        // Should Foundation ever not map one separator to one separator, fall back to asking it
        // scalar by scalar rather than misalign the table.
        guard index == candidates.count else {
            table = [:]
            for scalar in candidates {
                let nfd = Array(String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars)
                if nfd != [scalar] { table[scalar.value] = nfd }
            }
            return table
        }
        return table
    }
}
