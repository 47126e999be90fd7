import COpenBLAS

#if canImport(Glibc)
import Glibc
#endif

/// One of OpenBLAS's kernel sets ("cores"), named as `OPENBLAS_CORETYPE` and
/// `openblas_get_corename()` name them.
///
/// A DYNAMIC_ARCH OpenBLAS (Debian's) holds kernels for many processors and picks one when it
/// is loaded. 0.3.21 does not know processors newer than itself (an Intel Sapphire Rapids is
/// taken for a "Prescott", SSE3 only, and sgemm runs 4.7x below what its AVX-512 kernels give),
/// so densekit checks the choice against what the processor can run (`CPUFeatures`).
public struct BLASCore: Sendable, Hashable, CustomStringConvertible {
    /// The widest vector instructions a kernel set uses.
    public enum Level: Int, Sendable, Comparable, CustomStringConvertible {
        case sse = 0, avx, avx2, avx512

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .sse: "SSE, generic"
            case .avx: "AVX"
            case .avx2: "AVX2/FMA"
            case .avx512: "AVX-512"
            }
        }
    }

    /// OpenBLAS's spelling, e.g. "SkylakeX".
    public let name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }

    /// The instruction level of this core's kernels; names OpenBLAS 0.3.21 does not list count
    /// as generic.
    public var level: Level {
        switch name.lowercased() {
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": .avx
        case "haswell", "zen": .avx2
        case "skylakex", "cooperlake", "sapphirerapids": .avx512
        default: .sse
        }
    }

    /// The cores densekit selects or lets a user select, with what each needs of the processor.
    public static let selectable: [(core: BLASCore, needs: Set<CPUFeatures.Flag>)] = [
        (BLASCore("Prescott"), [.sse3]),
        (BLASCore("Core2"), [.sse3, .ssse3]),
        (BLASCore("Nehalem"), [.sse3, .ssse3, .sse4_2]),
        (BLASCore("Sandybridge"), [.avx]),
        (BLASCore("Haswell"), [.avx, .avx2, .fma]),
        (BLASCore("Zen"), [.avx, .avx2, .fma]),
        (BLASCore("SkylakeX"), [.avx2, .fma, .avx512f, .avx512dq, .avx512bw, .avx512vl]),
        (BLASCore("Cooperlake"), [.avx2, .fma, .avx512f, .avx512dq, .avx512bw, .avx512vl, .avx512_bf16]),
    ]

    /// The selectable core named `name` (any case), or nil.
    public static func selectable(named name: String) -> BLASCore? {
        selectable.first { $0.core.name.lowercased() == name.lowercased() }?.core
    }

    /// Whether the processor can run this core's kernels. OpenBLAS does not check: told
    /// "SkylakeX" on a processor without AVX-512 it loads those kernels and dies on SIGILL.
    public func runs(on cpu: CPUFeatures) -> Bool {
        guard let entry = Self.selectable.first(where: { $0.core == self }) else { return false }
        return cpu.flags.isSuperset(of: entry.needs)
    }

    /// Every selectable core the processor can run, oldest first.
    public static func supported(on cpu: CPUFeatures) -> [BLASCore] {
        selectable.map(\.core).filter { $0.runs(on: cpu) }
    }

    /// The fastest sgemm kernels for the processor. SkylakeX rather than Cooperlake on AVX-512:
    /// Cooperlake adds only bf16 GEMMs, and its sgemm measured 136 against SkylakeX's 140.5
    /// GFLOP/s on a Sapphire Rapids core. nil where nothing beats the generic kernels.
    public static func best(for cpu: CPUFeatures) -> BLASCore? {
        if cpu.hasAVX512 { return BLASCore("SkylakeX") }
        if cpu.hasAVX2FMA { return BLASCore(cpu.vendor == "AuthenticAMD" ? "Zen" : "Haswell") }
        if cpu.has(.avx) { return BLASCore("Sandybridge") }
        return nil
    }

    /// The core the OpenBLAS loaded in this process runs.
    public static var loaded: BLASCore { BLASCore(String(cString: openblas_get_corename())) }

    /// OpenBLAS's build line, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public static var libraryConfiguration: String { String(cString: openblas_get_config()) }
}

/// How densekit treats OpenBLAS's own core choice: `DENSEKIT_BLAS_CORE=auto|keep|NAME`.
public enum BLASCorePolicy: Sendable, Equatable {
    /// Replace a core below what the processor supports by the best one (the default).
    case auto
    /// Leave OpenBLAS's choice alone.
    case keep
    /// Use this core (refused when the processor cannot run it).
    case core(BLASCore)

    /// Parses the variable's value; nil or empty means `auto`.
    public init(environmentValue value: String?) throws(BLASCoreError) {
        guard let value, !value.isEmpty else { self = .auto; return }
        switch value.lowercased() {
        case "auto": self = .auto
        case "keep": self = .keep
        default:
            guard let core = BLASCore.selectable(named: value) else {
                throw .unknownCore(value, known: BLASCore.selectable.map(\.core.name))
            }
            self = .core(core)
        }
    }
}

/// A BLAS core choice that cannot be carried out.
public enum BLASCoreError: Error, Equatable, CustomStringConvertible {
    case unknownCore(String, known: [String])
    case unsupportedCore(BLASCore, cpu: String)

    public var description: String {
        switch self {
        case .unknownCore(let name, let known):
            "\(BLASEnvironment.policy)=\(name): not a core densekit selects; use auto, keep or one of \(known.joined(separator: ", "))"
        case .unsupportedCore(let core, let cpu):
            "\(BLASEnvironment.policy)=\(core.name): this processor (\(cpu)) cannot run its kernels"
        }
    }
}

/// The environment variables of the BLAS core choice.
public enum BLASEnvironment {
    /// OpenBLAS's own override, read when the library loads.
    public static let openBLASCoreType = "OPENBLAS_CORETYPE"
    /// densekit's policy: auto (default), keep, or a core name.
    public static let policy = "DENSEKIT_BLAS_CORE"
    /// Set by densekit beside OPENBLAS_CORETYPE when it overrides OpenBLAS: the core OpenBLAS
    /// had chosen by itself. Its absence marks an OPENBLAS_CORETYPE as the user's own.
    public static let detectedByOpenBLAS = "DENSEKIT_BLAS_CORE_DETECTED"

    static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// What to do about the loaded core, and why.
public struct BLASCoreDecision: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case keep
        /// Restart the process with `OPENBLAS_CORETYPE` set to this core.
        case select(BLASCore)
    }

    public let action: Action
    public let reason: String

    /// Decides from the processor, the core OpenBLAS loaded, an `OPENBLAS_CORETYPE` already in
    /// the environment (always respected) and the policy.
    public static func decide(
        cpu: CPUFeatures, loaded: BLASCore, coreTypeVariable: String?, policy: BLASCorePolicy
    ) throws(BLASCoreError) -> BLASCoreDecision {
        if let coreTypeVariable, !coreTypeVariable.isEmpty {
            return BLASCoreDecision(action: .keep, reason: "\(BLASEnvironment.openBLASCoreType)=\(coreTypeVariable) is set")
        }
        switch policy {
        case .keep:
            return BLASCoreDecision(action: .keep, reason: "chosen by OpenBLAS (\(BLASEnvironment.policy)=keep)")
        case .core(let core):
            guard core.runs(on: cpu) else { throw .unsupportedCore(core, cpu: cpu.model) }
            if core.name.lowercased() == loaded.name.lowercased() {
                return BLASCoreDecision(action: .keep, reason: "\(BLASEnvironment.policy)=\(core.name), as OpenBLAS chose")
            }
            return BLASCoreDecision(action: .select(core), reason: "\(BLASEnvironment.policy)=\(core.name)")
        case .auto:
            guard let best = BLASCore.best(for: cpu) else {
                return BLASCoreDecision(action: .keep, reason: "chosen by OpenBLAS; the processor has no AVX")
            }
            if loaded.level >= best.level {
                return BLASCoreDecision(action: .keep, reason: "chosen by OpenBLAS, suited to this processor (\(best.level))")
            }
            return BLASCoreDecision(
                action: .select(best),
                reason: "OpenBLAS chose \(loaded.name) (\(loaded.level) kernels) on a processor with \(best.level): densekit selects \(best.name)")
        }
    }
}

/// The BLAS core of this process and how it came to be, for `densekit system` and tests.
public struct BLASCoreStatus: Sendable {
    /// Who chose the loaded core.
    public enum Origin: Sendable, Equatable {
        case openBLAS
        /// densekit restarted the process with OPENBLAS_CORETYPE; OpenBLAS had chosen `detected`.
        case densekit(detected: BLASCore)
        /// The user's own OPENBLAS_CORETYPE.
        case user
    }

    public let loaded: BLASCore
    public let origin: Origin
    /// The core densekit would pick for this processor under `auto`.
    public let best: BLASCore?
    /// One sentence on why this core runs.
    public let reason: String

    /// Reads the loaded core and the variables densekit sets when it overrides OpenBLAS.
    public static var current: BLASCoreStatus {
        let cpu = CPUFeatures.current
        let loaded = BLASCore.loaded
        let best = BLASCore.best(for: cpu)
        let coreType = BLASEnvironment.value(BLASEnvironment.openBLASCoreType).flatMap { $0.isEmpty ? nil : $0 }
        if let coreType, let detected = BLASEnvironment.value(BLASEnvironment.detectedByOpenBLAS) {
            let honoured = coreType.lowercased() == loaded.name.lowercased()
                ? "" : "; OpenBLAS loaded \(loaded.name) instead of \(coreType)"
            let policy = BLASEnvironment.value(BLASEnvironment.policy).flatMap { BLASCore.selectable(named: $0) }
            let why = policy.map { "\(BLASEnvironment.policy)=\($0.name); OpenBLAS had chosen \(detected)" }
                ?? "OpenBLAS had chosen \(detected) (\(BLASCore(detected).level) kernels) on a processor with \(best?.level.description ?? "no AVX")"
            return BLASCoreStatus(
                loaded: loaded, origin: .densekit(detected: BLASCore(detected)), best: best,
                reason: "selected by densekit: \(why)\(honoured)")
        }
        if let coreType {
            return BLASCoreStatus(loaded: loaded, origin: .user, best: best,
                                  reason: "\(BLASEnvironment.openBLASCoreType)=\(coreType) set by the user")
        }
        let policy = BLASEnvironment.value(BLASEnvironment.policy)?.lowercased() == "keep" ? " (\(BLASEnvironment.policy)=keep)" : ""
        let fit = best.map { loaded.level >= $0.level ? "suited to this processor" : "below this processor's \($0.level); run densekit to select \($0.name)" } ?? "no AVX on this processor"
        return BLASCoreStatus(loaded: loaded, origin: .openBLAS, best: best, reason: "chosen by OpenBLAS\(policy), \(fit)")
    }
}
