// The pipeline works on UTF-8 bytes so that ASCII, nearly all of real text, never needs decoding;
// these helpers handle the rest.

enum UTF8Bytes {
    static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// Decodes the scalar starting at `index` and returns it with its length in bytes. Input comes
    /// from Swift strings and is valid; anything malformed still advances and reads as U+FFFD.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int) {
        let b0 = UInt32(bytes[index])
        let remaining = bytes.count - index
        var value: UInt32
        var length: Int
        switch b0 {
        case 0..<0x80: return (Unicode.Scalar(UInt8(b0)), 1)
        case 0xC0..<0xE0: value = b0 & 0x1F; length = 2
        case 0xE0..<0xF0: value = b0 & 0x0F; length = 3
        case 0xF0..<0xF8: value = b0 & 0x07; length = 4
        default: return (replacement, 1)
        }
        guard length <= remaining else { return (replacement, 1) }
        for k in 1..<length {
            let b = UInt32(bytes[index + k])
            guard b & 0xC0 == 0x80 else { return (replacement, 1) }
            value = value << 6 | (b & 0x3F)
        }
        return (Unicode.Scalar(value) ?? replacement, length)
    }

    @inline(__always)
    static func append(_ scalar: Unicode.Scalar, to output: inout [UInt8]) {
        let v = scalar.value
        switch v {
        case 0..<0x80:
            output.append(UInt8(v))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | v >> 6))
            output.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | v >> 12))
            output.append(UInt8(0x80 | v >> 6 & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        default:
            output.append(UInt8(0xF0 | v >> 18))
            output.append(UInt8(0x80 | v >> 12 & 0x3F))
            output.append(UInt8(0x80 | v >> 6 & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        }
    }

    @inline(__always)
    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
