import CCPU

/// The processor densekit runs on: its name and the vector instruction sets that matter for
/// choosing kernels, read once with `cpuid` (a set counts only when the operating system also
/// saves its registers).
public struct CPUFeatures: Sendable, Equatable {
    /// An instruction-set extension that decides which kernels can run.
    public enum Flag: String, CaseIterable, Sendable, Comparable {
        case sse3, ssse3, sse4_1 = "sse4.1", sse4_2 = "sse4.2"
        case avx, avx2, fma
        case avx512f, avx512dq, avx512bw, avx512vl
        case avx512_bf16 = "avx512-bf16", avx512_fp16 = "avx512-fp16"
        case amx_tile = "amx-tile", amx_bf16 = "amx-bf16"

        public static func < (a: Flag, b: Flag) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// "GenuineIntel", "AuthenticAMD", ... (empty off x86-64).
    public var vendor: String
    /// The processor's brand string, e.g. "AMD EPYC 7B13" (empty off x86-64).
    public var model: String
    public var flags: Set<Flag>

    public init(vendor: String, model: String, flags: Set<Flag>) {
        self.vendor = vendor
        self.model = model
        self.flags = flags
    }

    public func has(_ flag: Flag) -> Bool { flags.contains(flag) }

    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels and densekit's distance kernels use.
    public var hasAVX512: Bool { flags.isSuperset(of: [.avx512f, .avx512dq, .avx512bw, .avx512vl]) }

    /// AVX2 with fused multiply-add: what Haswell-class kernels need.
    public var hasAVX2FMA: Bool { flags.isSuperset(of: [.avx2, .fma]) }

    /// The processor of this process.
    public static let current: CPUFeatures = {
        var raw = ccpu_features()
        ccpu_detect(&raw)
        let vendor = withUnsafeBytes(of: raw.vendor) { cString($0) }
        let model = withUnsafeBytes(of: raw.brand) { cString($0) }
        let pairs: [(Flag, Int32)] = [
            (.sse3, raw.sse3), (.ssse3, raw.ssse3), (.sse4_1, raw.sse4_1), (.sse4_2, raw.sse4_2),
            (.avx, raw.avx), (.avx2, raw.avx2), (.fma, raw.fma),
            (.avx512f, raw.avx512f), (.avx512dq, raw.avx512dq), (.avx512bw, raw.avx512bw), (.avx512vl, raw.avx512vl),
            (.avx512_bf16, raw.avx512_bf16), (.avx512_fp16, raw.avx512_fp16),
            (.amx_tile, raw.amx_tile), (.amx_bf16, raw.amx_bf16),
        ]
        return CPUFeatures(vendor: vendor, model: model, flags: Set(pairs.filter { $0.1 != 0 }.map(\.0)))
    }()

    /// A fixed-size C char array as a trimmed Swift string (the brand string is space-padded).
    private static func cString(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = bytes.prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self).trimmingCharacters(in: " ")
    }
}

private extension String {
    func trimmingCharacters(in character: Character) -> String {
        var slice = Substring(self)
        while slice.first == character { slice = slice.dropFirst() }
        while slice.last == character { slice = slice.dropLast() }
        return String(slice)
    }
}
