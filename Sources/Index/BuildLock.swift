import Foundation

/// The advisory lock that keeps two writers out of one index folder (`flock` on
/// `build.lock`, which holds the writer's PID for the message the second one gets).
///
/// The kernel drops the lock when the process ends, however it ends, so a killed build never
/// leaves the folder locked. LMDB's own lock file only orders transactions: without this, two
/// `index build` runs would both encode the corpus and interleave their batches.
final class BuildLock: @unchecked Sendable {
    static let fileName = "build.lock"
    private let descriptor: Int32

    /// Takes the lock of `folder` (which must exist), or throws naming the process holding it.
    init(folder: String) throws(IndexError) {
        let path = folder + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .invalid("\(path): cannot open the build lock: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.pid(in: descriptor)
            close(descriptor)
            throw .invalid("\(folder): index is being built by PID \(holder.map(String.init) ?? "?") (another densekit holds \(Self.fileName)); wait for it to finish")
        }
        self.descriptor = descriptor
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
    }

    deinit { close(descriptor) }

    /// The PID of the process writing `folder` now; nil when none is.
    static func holder(of folder: String) -> Int32? {
        let descriptor = open(folder + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return pid(in: descriptor) ?? -1
    }

    private static func pid(in descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
