import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where tests write their files: one folder per test process under the system temp directory,
/// removed when the process exits. A full test run writes gigabytes (model checkpoints, index
/// folders, one copy per test); left behind, a few runs fill the disk. The folders of test
/// processes that died without exiting (killed, crashed) are removed by the next one.
public enum TestScratch {
    static let prefix = "densekit-tests-"

    /// This process's folder.
    public static let root: URL = {
        let base = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
        }
        let url = base.appendingPathComponent(prefix + String(getpid()))
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestScratch.root) }
        return url
    }()

    /// A fresh empty folder named `name-UUID` (tests run in parallel).
    public static func folder(_ name: String) throws -> URL {
        let url = root.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
