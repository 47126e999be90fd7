import DensekitTensor
import Foundation

/// Settings that the C libraries read only when they are loaded, before `main` runs, and that
/// densekit therefore applies by re-executing itself once with them in the environment.
///
/// - `OMP_WAIT_POLICY=passive`: GNU OpenMP spin-waits by default; between FAISS calls its
///   spinning threads take the cores from OpenBLAS's threads (measured: exact search at 1,811
///   queries/s with spinning, 3,345 with passive waiting).
/// - `OPENBLAS_CORETYPE`: when OpenBLAS fell back to kernels below what the processor runs (it
///   takes CPUs newer than itself for generic ones), the best kernel set it has
///   (`BLASCoreDecision`). A user's own `OPENBLAS_CORETYPE` or `OMP_WAIT_POLICY` is never
///   changed; `DENSEKIT_BLAS_CORE=keep` leaves OpenBLAS's choice alone.
///
/// The re-executed process carries `DENSEKIT_REEXECUTED=1` and never re-executes again, so a
/// library that ignores a variable cannot cause a loop.
enum ProcessSetup {
    static let reexecutedMarker = "DENSEKIT_REEXECUTED"

    /// Applies the settings, re-executing when one is missing. Returns only when no restart is
    /// needed or it failed (no /proc: carry on as loaded); exits on an invalid DENSEKIT_BLAS_CORE.
    static func apply() {
        guard getenv(reexecutedMarker) == nil else { return }
        var changes: [(String, String)] = []
        if getenv("OMP_WAIT_POLICY") == nil { changes.append(("OMP_WAIT_POLICY", "passive")) }
        do {
            let environment = ProcessInfo.processInfo.environment
            let policy = try BLASCorePolicy(environmentValue: environment[BLASEnvironment.policy])
            let loaded = BLASCore.loaded
            let decision = try BLASCoreDecision.decide(
                cpu: .current, loaded: loaded,
                coreTypeVariable: environment[BLASEnvironment.openBLASCoreType], policy: policy)
            if case .select(let core) = decision.action {
                changes.append((BLASEnvironment.openBLASCoreType, core.name))
                changes.append((BLASEnvironment.detectedByOpenBLAS, loaded.name))
            }
        } catch {
            FileHandle.standardError.write(Data("densekit: \(error)\n".utf8))
            exit(2)
        }
        guard !changes.isEmpty else { return }
        for (name, value) in changes { setenv(name, value, 1) }
        setenv(reexecutedMarker, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with the libraries as they were loaded.
    }
}
