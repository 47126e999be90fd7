import Foundation
import Testing

/// `densekit system` and the BLAS core densekit runs: the re-execution that replaces a generic
/// OpenBLAS core, the user's own OPENBLAS_CORETYPE, and the same embeddings under every core.
@Suite struct SystemCommandTests {
    /// What densekit sets when it restarts itself; removed so that each run decides afresh.
    static let densekitVariables = ["OPENBLAS_CORETYPE", "DENSEKIT_BLAS_CORE", "DENSEKIT_BLAS_CORE_DETECTED", "DENSEKIT_REEXECUTED"]

    struct System: Decodable {
        let cpu: String
        let flags: [String]
        let blas_core: String
        let blas_core_best: String?
        let blas_core_origin: String
        let blas_core_reason: String
        let blas_cores_supported: [String]
    }

    static let levels = ["sandybridge": 1, "haswell": 2, "zen": 2, "skylakex": 3, "cooperlake": 3]
    static func level(_ core: String) -> Int { levels[core.lowercased()] ?? 0 }

    func system(_ environment: [String: String] = [:]) throws -> (CommandRunner.Result, System?) {
        let result = try CommandRunner.run(["system", "--json"], environment: environment, removing: Self.densekitVariables)
        return (result, try? JSONDecoder().decode(System.self, from: result.stdoutData))
    }

    @Test func densekitRunsTheBestKernelsTheProcessorSupports() throws {
        let (result, info) = try system()
        #expect(result.status == 0, "\(result.stderr)")
        let system = try #require(info)
        // On an AVX-512 processor the core in use is never a generic one (the fallback
        // OpenBLAS 0.3.21 makes on CPUs newer than itself), nor below AVX-512.
        if system.flags.contains("avx512f") { #expect(Self.level(system.blas_core) == 3, "\(system.blas_core_reason)") }
        if let best = system.blas_core_best { #expect(Self.level(system.blas_core) >= Self.level(best), "\(system.blas_core_reason)") }
        #expect(system.blas_core_origin != "user")
        #expect(system.blas_cores_supported.contains("Prescott"))
    }

    @Test func aNamedCoreIsLoadedByRestarting() throws {
        let (result, info) = try system(["DENSEKIT_BLAS_CORE": "Sandybridge"])
        #expect(result.status == 0, "\(result.stderr)")
        let system = try #require(info)
        guard system.blas_cores_supported.contains("Sandybridge") else { return }  // no AVX here
        #expect(system.blas_core == "Sandybridge")
        #expect(system.blas_core_origin == "densekit")
        #expect(system.blas_core_reason.contains("DENSEKIT_BLAS_CORE=Sandybridge"))
    }

    @Test func theUsersOpenBLASCoreTypeWins() throws {
        let (result, info) = try system(["OPENBLAS_CORETYPE": "Nehalem", "DENSEKIT_BLAS_CORE": "Sandybridge"])
        #expect(result.status == 0, "\(result.stderr)")
        let system = try #require(info)
        #expect(system.blas_core == "Nehalem")
        #expect(system.blas_core_origin == "user")
    }

    @Test func anUnknownOrUnsupportedCoreIsRefused() throws {
        let (unknown, _) = try system(["DENSEKIT_BLAS_CORE": "Pentium4"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("DENSEKIT_BLAS_CORE=Pentium4") && unknown.stderr.contains("SkylakeX"))
        let (_, info) = try system()
        if let info, !info.blas_cores_supported.contains("SkylakeX") {
            let (unsupported, _) = try system(["DENSEKIT_BLAS_CORE": "SkylakeX"])
            #expect(unsupported.status == 2)
            #expect(unsupported.stderr.contains("cannot run"))
        }
    }

    @Test func shellExportsOnlyWhatDensekitSelected() throws {
        let chosen = try CommandRunner.run(["system", "--shell"], environment: ["DENSEKIT_BLAS_CORE": "Nehalem"], removing: Self.densekitVariables)
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stdout.hasPrefix("export OPENBLAS_CORETYPE=Nehalem DENSEKIT_BLAS_CORE_DETECTED="))
        let kept = try CommandRunner.run(["system", "--shell"], environment: ["DENSEKIT_BLAS_CORE": "keep"], removing: Self.densekitVariables)
        #expect(kept.status == 0 && kept.stdout.isEmpty)
    }

    /// Every kernel set computes the same embeddings up to float rounding.
    @Test func embeddingsAgreeUnderEveryCoreTheProcessorRuns() throws {
        guard CommandRunner.modelAvailable else {
            Issue.record("model not found at \(CommandRunner.modelPath): run scripts/fetch-model.sh (scripts/test.sh does)")
            return
        }
        let (_, info) = try system()
        let cores = try #require(info).blas_cores_supported
        #expect(cores.count >= 1)
        let texts = "Library for accessing the Akismet API\nfast key-value store written in C\nconvert images between formats\n"
        var embeddings: [String: [[Float]]] = [:]
        for core in cores {
            let result = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--quiet"], stdin: texts,
                                               environment: ["DENSEKIT_BLAS_CORE": core], removing: Self.densekitVariables)
            #expect(result.status == 0, "\(core): \(result.stderr)")
            struct Row: Decodable { let embedding: [Float] }
            embeddings[core] = try result.stdout.split(separator: "\n").map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)).embedding }
        }
        let reference = try #require(embeddings[cores[0]])
        #expect(reference.count == 3 && reference.allSatisfy { $0.count == 384 })
        for core in cores.dropFirst() {
            let other = try #require(embeddings[core])
            let difference = zip(reference.joined(), other.joined()).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= 1e-6, "\(cores[0]) vs \(core): max difference \(difference)")
        }
    }
}
