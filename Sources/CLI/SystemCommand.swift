import ArgumentParser
import DensekitIndex
import DensekitTensor
import Foundation

/// `densekit system`: the processor, the kernels densekit runs on it, and why.
struct SystemInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Print the processor, its vector extensions, the BLAS kernels in use and why.",
        discussion: """
        OpenBLAS picks its kernels ("core") when it is loaded and does not know processors newer \
        than itself: it may fall back to generic SSE kernels on an AVX-512 machine. densekit \
        then restarts itself with OPENBLAS_CORETYPE set to the best core the processor runs. \
        DENSEKIT_BLAS_CORE=keep turns that off, DENSEKIT_BLAS_CORE=NAME picks a core; a user's \
        own OPENBLAS_CORETYPE is always respected. --shell prints the variables to export so \
        that other programs linking OpenBLAS (a test runner) get the same kernels.
        """)

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Print `export NAME=VALUE` lines for the BLAS core densekit selected (nothing when OpenBLAS's own choice stands).")
    var shell = false

    func run() throws {
        let cpu = CPUFeatures.current
        let status = BLASCoreStatus.current
        if shell {
            if case .densekit(let detected) = status.origin {
                print("export \(BLASEnvironment.openBLASCoreType)=\(status.loaded.name) \(BLASEnvironment.detectedByOpenBLAS)=\(detected.name)")
            }
            return
        }
        let flags = CPUFeatures.Flag.allCases.filter(cpu.has).map(\.rawValue)
        let supported = BLASCore.supported(on: cpu).map(\.name)
        let distances = FaissIndex.distanceKernels
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if json {
            let object: [String: Any] = [
                "cpu": cpu.model, "vendor": cpu.vendor, "flags": flags, "cores": cores,
                "blas_core": status.loaded.name, "blas_core_level": status.loaded.level.description,
                "blas_core_reason": status.reason, "blas_core_best": status.best?.name ?? NSNull(),
                "blas_core_origin": originName(status.origin), "blas_cores_supported": supported,
                "blas_library": BLASCore.libraryConfiguration, "faiss_distance_kernels": distances,
                "omp_wait_policy": ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let rows: [(String, String)] = [
            ("cpu", "\(cpu.model.isEmpty ? "unknown" : cpu.model) (\(cpu.vendor)), \(cores) cores"),
            ("vector flags", flags.joined(separator: " ")),
            ("blas core", "\(status.loaded.name) (\(status.loaded.level) kernels): \(status.reason)"),
            ("blas cores", "this processor runs \(supported.joined(separator: ", ")); best: \(status.best?.name ?? "none above generic")"),
            ("blas library", BLASCore.libraryConfiguration),
            ("faiss distances", distances),
            ("openmp wait", ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "library default (spinning)"),
        ]
        for (key, value) in rows { print(key.padding(toLength: 16, withPad: " ", startingAt: 0) + value) }
    }

    private func originName(_ origin: BLASCoreStatus.Origin) -> String {
        switch origin {
        case .openBLAS: "openblas"
        case .densekit: "densekit"
        case .user: "user"
        }
    }
}
