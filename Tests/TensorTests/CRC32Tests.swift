import CKernels
import DensekitTensor
import Foundation
import Testing

/// CRC-32 as zlib computes it, whichever path does the bytes: carry-less folding of 16-byte
/// blocks (buffers of 64 bytes and more, on processors with PCLMULQDQ) and the table loop.
@Suite struct CRC32Tests {
    /// The definition, one bit at a time (reflected polynomial 0xEDB88320, register and result
    /// inverted): slow and obviously right.
    static func bitwise(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    static func crc(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { CRC32.checksum($0, continuing: crc) }
    }

    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    @Test func knownValues() {
        #expect(Self.crc([]) == 0)
        #expect(Self.crc(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Self.crc(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        // 64 bytes and more go through the folding path.
        #expect(Self.crc([UInt8](repeating: 0, count: 64)) == Self.bitwise([UInt8](repeating: 0, count: 64)))
        #expect(Self.crc([UInt8](repeating: 0xFF, count: 1_000)) == Self.bitwise([UInt8](repeating: 0xFF, count: 1_000)))
    }

    /// Every length around the folding path's thresholds (64 bytes, 4 and 1 block steps, the
    /// 0-15 byte tail) and a few large ones, at an odd offset (unaligned loads).
    @Test func equalsTheDefinitionAtEveryLength() {
        let data = Self.random(70_000, seed: 7)
        var lengths = Array(0...300)
        lengths += [1_023, 1_024, 1_025, 4_096 + 13, 65_536 + 5]
        for length in lengths {
            let bytes = Array(data[3..<(3 + length)])
            #expect(Self.crc(bytes) == Self.bitwise(bytes), "length \(length)")
        }
    }

    /// A checksum continued over pieces equals the checksum of the whole (CRC32.file reads in
    /// chunks; the weights fingerprint continues over tensors).
    @Test func continuingOverPiecesEqualsTheWhole() {
        let data = Self.random(10_000, seed: 11)
        let whole = Self.bitwise(data)
        for cuts in [[0], [1], [63, 64], [100, 5_000], [4_096, 4_160, 9_999], [17, 33, 81, 200, 7_777]] {
            var crc: UInt32 = 0
            var start = 0
            for cut in cuts + [data.count] {
                crc = Self.crc(Array(data[start..<cut]), continuing: crc)
                start = cut
            }
            #expect(crc == whole, "cuts \(cuts)")
        }
        #expect(Self.crc(Array(data[5_000...]), continuing: Self.bitwise(Array(data[..<5_000]))) == whole)
    }

    /// On a processor with PCLMULQDQ the folding path does the bulk (or the tests above would
    /// check the table loop twice).
    @Test func foldingRunsWherePCLMULQDQIs() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { $0.split(separator: " ").map(String.init) } ?? []
        let data = Self.random(100, seed: 3)
        var state: UInt32 = 0xFFFF_FFFF
        let consumed = data.withUnsafeBytes { ckernels_crc32_fold(&state, $0.baseAddress!, 100) }
        if flags.contains("pclmulqdq") && flags.contains("sse4_1") {
            #expect(consumed == 96)
            // The register after 96 bytes, finished by the definition over the last 4.
            #expect(Self.bitwise(Array(data[96...]), continuing: ~state) == Self.bitwise(data))
        } else {
            #expect(consumed == 0)
        }
        #expect(data.withUnsafeBytes { ckernels_crc32_fold(&state, $0.baseAddress!, 63) } == 0)
    }
}
