import DensekitTensor
import Foundation

/// A deterministic mutation fuzzer for file readers: each call turns a valid input into a
/// damaged one (bytes flipped, spans cut or repeated, numbers replaced by extreme ones, JSON
/// punctuation dropped), seeded so that a failure names the case that reproduces it.
///
/// Tests feed each mutant to a reader and require a typed error or a result, never a crash
/// (a trap, an abort, an allocation failure end the test process, which fails the run). The
/// count comes from `DENSEKIT_FUZZ_ITERATIONS` (default `defaultIterations`), so that
/// `Benchmarks/fuzz.sh` can run the same loops far longer.
public struct InputMutator {
    public static var iterations: Int {
        ProcessInfo.processInfo.environment["DENSEKIT_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
    }
    public static let defaultIterations = 300

    /// Values that break readers that trust numbers: overflow Int, Int.max, negatives, zero,
    /// fractions, exponents, non-numbers.
    public static let extremes = [
        "0", "-1", "1e308", "-1e308", "1e30", "1.5", "9223372036854775807", "9223372036854775808", "18446744073709551616",
        "4294967296", "1000000000000", "NaN", "null", "true", "\"\"", "[]", "{}", "[0]", "[-1,-1]", "[4294967296,4294967296,16]",
    ]

    private var random: RandomSource

    public init(seed: UInt64) { random = RandomSource(seed: seed) }

    /// One mutant of `input`; mutations fall in `focus` (a byte range) when given, so that a
    /// large file's interesting part (a header) gets most of them.
    public mutating func mutate(_ input: [UInt8], focus: Range<Int>? = nil) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...3, using: &random)
        for _ in 0..<rounds {
            let range = focus.map { $0.clamped(to: 0..<max(bytes.count, 1)) } ?? 0..<max(bytes.count, 1)
            guard !range.isEmpty, !bytes.isEmpty else { bytes += Array(Self.extremes[0].utf8); continue }
            let at = Int.random(in: range, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 1:
                let end = min(bytes.count, at + Int.random(in: 1...16, using: &random))
                bytes.removeSubrange(at..<end)
            case 2:
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            case 3:
                bytes.insert(contentsOf: Array(Self.extremes.randomElement(using: &random)!.utf8), at: at)
            case 4:
                replaceNumber(in: &bytes, near: at)
            default:
                // Cut the input short (truncated files) or drop a JSON delimiter.
                if Bool.random(using: &random) {
                    bytes.removeSubrange(at...)
                } else if let delimiter = bytes[at...].firstIndex(where: { "{}[]\":,\t\n".utf8.contains($0) }) {
                    bytes.remove(at: delimiter)
                }
            }
        }
        return bytes
    }

    /// Replaces the first number at or after `position` with an extreme value.
    private mutating func replaceNumber(in bytes: inout [UInt8], near position: Int) {
        guard let start = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) else { return }
        var end = start
        while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == UInt8(ascii: ".") { end += 1 }
        bytes.replaceSubrange(start..<end, with: Array(Self.extremes.randomElement(using: &random)!.utf8))
    }
}
