import DensekitTensor
import Foundation
import Testing

/// The BLAS core choice: which OpenBLAS kernels a processor should run, and when densekit
/// overrides OpenBLAS's own choice.
@Suite struct BLASCoreTests {
    static let avx512: Set<CPUFeatures.Flag> = [.sse3, .ssse3, .sse4_2, .avx, .avx2, .fma, .avx512f, .avx512dq, .avx512bw, .avx512vl]
    let sapphireRapids = CPUFeatures(vendor: "GenuineIntel", model: "Intel(R) Xeon(R) Platinum 8488C",
                                     flags: avx512.union([.avx512_bf16, .avx512_fp16, .amx_tile, .amx_bf16]))
    let zen3 = CPUFeatures(vendor: "AuthenticAMD", model: "AMD EPYC 7B13", flags: [.sse3, .ssse3, .sse4_2, .avx, .avx2, .fma])
    let haswell = CPUFeatures(vendor: "GenuineIntel", model: "Intel Xeon E5-2699 v3", flags: [.sse3, .ssse3, .sse4_2, .avx, .avx2, .fma])
    let old = CPUFeatures(vendor: "GenuineIntel", model: "Intel Core2", flags: [.sse3, .ssse3])

    @Test func aGenericCoreOnAnAVX512ProcessorIsReplacedBySkylakeX() throws {
        // The case measured on a Sapphire Rapids: OpenBLAS 0.3.21 fell back to Prescott.
        let decision = try BLASCoreDecision.decide(cpu: sapphireRapids, loaded: BLASCore("Prescott"), coreTypeVariable: nil, policy: .auto)
        #expect(decision.action == .select(BLASCore("SkylakeX")))
        #expect(decision.reason.contains("Prescott") && decision.reason.contains("AVX-512"))
    }

    @Test func aGenericCoreOnAnAVX2ProcessorIsReplacedByItsVendorsCore() throws {
        #expect(try BLASCoreDecision.decide(cpu: zen3, loaded: BLASCore("Prescott"), coreTypeVariable: nil, policy: .auto).action
            == .select(BLASCore("Zen")))
        #expect(try BLASCoreDecision.decide(cpu: haswell, loaded: BLASCore("Nehalem"), coreTypeVariable: nil, policy: .auto).action
            == .select(BLASCore("Haswell")))
        // AVX-512 kernels chosen on an AVX2 choice would be a step up, never down: Sandybridge
        // (AVX) under an AVX-512 CPU is replaced too.
        #expect(try BLASCoreDecision.decide(cpu: sapphireRapids, loaded: BLASCore("Sandybridge"), coreTypeVariable: nil, policy: .auto).action
            == .select(BLASCore("SkylakeX")))
    }

    @Test func aSuitableChoiceIsKept() throws {
        // Cooperlake is what OpenBLAS picks on an AVX-512 EPYC: same level as SkylakeX.
        for (cpu, core) in [(sapphireRapids, "Cooperlake"), (sapphireRapids, "SkylakeX"), (zen3, "Zen"), (haswell, "Haswell"), (zen3, "Haswell")] {
            let decision = try BLASCoreDecision.decide(cpu: cpu, loaded: BLASCore(core), coreTypeVariable: nil, policy: .auto)
            #expect(decision.action == .keep, "\(cpu.model) \(core)")
        }
        // Nothing better than generic kernels for a processor without AVX.
        #expect(try BLASCoreDecision.decide(cpu: old, loaded: BLASCore("Core2"), coreTypeVariable: nil, policy: .auto).action == .keep)
    }

    @Test func theUsersVariableAndKeepPolicyAreRespected() throws {
        let user = try BLASCoreDecision.decide(cpu: sapphireRapids, loaded: BLASCore("Prescott"), coreTypeVariable: "Prescott", policy: .auto)
        #expect(user.action == .keep && user.reason.contains("OPENBLAS_CORETYPE=Prescott"))
        // Even an explicit DENSEKIT_BLAS_CORE gives way to the user's OPENBLAS_CORETYPE.
        #expect(try BLASCoreDecision.decide(cpu: sapphireRapids, loaded: BLASCore("Haswell"), coreTypeVariable: "Haswell",
                                            policy: .core(BLASCore("SkylakeX"))).action == .keep)
        #expect(try BLASCoreDecision.decide(cpu: sapphireRapids, loaded: BLASCore("Prescott"), coreTypeVariable: nil, policy: .keep).action == .keep)
    }

    @Test func aNamedCoreIsSelectedOnlyWhereItRuns() throws {
        #expect(try BLASCoreDecision.decide(cpu: zen3, loaded: BLASCore("Zen"), coreTypeVariable: nil, policy: .core(BLASCore("Sandybridge"))).action
            == .select(BLASCore("Sandybridge")))
        #expect(try BLASCoreDecision.decide(cpu: zen3, loaded: BLASCore("Zen"), coreTypeVariable: nil, policy: .core(BLASCore("Zen"))).action == .keep)
        // OpenBLAS itself would load SkylakeX kernels on an AVX2 processor and die on SIGILL.
        #expect(throws: BLASCoreError.unsupportedCore(BLASCore("SkylakeX"), cpu: zen3.model)) {
            try BLASCoreDecision.decide(cpu: zen3, loaded: BLASCore("Zen"), coreTypeVariable: nil, policy: .core(BLASCore("SkylakeX")))
        }
        #expect(!BLASCore("Cooperlake").runs(on: CPUFeatures(vendor: "", model: "", flags: Self.avx512)))
        #expect(BLASCore("Cooperlake").runs(on: sapphireRapids))
    }

    @Test func policyValuesParse() throws {
        #expect(try BLASCorePolicy(environmentValue: nil) == .auto)
        #expect(try BLASCorePolicy(environmentValue: "") == .auto)
        #expect(try BLASCorePolicy(environmentValue: "KEEP") == .keep)
        #expect(try BLASCorePolicy(environmentValue: "skylakex") == .core(BLASCore("SkylakeX")))
        #expect(throws: BLASCoreError.self) { try BLASCorePolicy(environmentValue: "Pentium4") }
    }

    @Test func levelsOrderTheKernelSets() {
        #expect(BLASCore("Prescott").level == .sse && BLASCore("Unknown").level == .sse)
        #expect(BLASCore("Sandybridge").level == .avx)
        #expect(BLASCore("Haswell").level == .avx2 && BLASCore("zen").level == .avx2)
        #expect(BLASCore("SkylakeX").level == .avx512 && BLASCore("Cooperlake").level == .avx512)
        #expect(BLASCore.best(for: old) == nil)
        #expect(BLASCore.supported(on: zen3).map(\.name) == ["Prescott", "Core2", "Nehalem", "Sandybridge", "Haswell", "Zen"])
    }

    /// The test process links OpenBLAS too: scripts/test.sh exports the core densekit selects
    /// (`densekit system --shell`), so in-process tests run the kernels users get. Fails when
    /// OpenBLAS runs generic kernels on a processor that has better ones.
    @Test func thisProcessRunsKernelsSuitedToItsProcessor() {
        let status = BLASCoreStatus.current
        guard status.origin != .user else { return }  // the user's OPENBLAS_CORETYPE is theirs to choose
        if let best = status.best {
            #expect(status.loaded.level >= best.level, "\(status.reason) (CPU \(CPUFeatures.current.model))")
        }
    }

    @Test func thisProcessorIsDetected() {
        let cpu = CPUFeatures.current
        #if arch(x86_64)
        #expect(!cpu.vendor.isEmpty)
        // x86-64 guarantees SSE2; every machine densekit meets has at least SSE3.
        #expect(cpu.has(.sse3))
        // AVX2 implies AVX; AVX-512 subsets imply AVX2 on every processor that has them.
        if cpu.has(.avx2) { #expect(cpu.has(.avx)) }
        if cpu.hasAVX512 { #expect(cpu.hasAVX2FMA) }
        // /proc/cpuinfo agrees on the flags that pick kernels.
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(line.split(separator: " ").map(String.init))
            #expect(cpu.has(.avx2) == flags.contains("avx2"))
            #expect(cpu.has(.fma) == flags.contains("fma"))
            #expect(cpu.has(.avx512f) == flags.contains("avx512f"))
        }
        #endif
    }
}
