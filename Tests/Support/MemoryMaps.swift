import Foundation

/// This process's memory maps as the kernel lists them (`/proc/self/smaps`), to check what
/// densekit asked of the kernel about a mapped file.
public enum MemoryMaps {
    /// The `VmFlags` of each mapping of `file` (its path, symbolic links resolved), e.g.
    /// `["rd", "mr", "rr"]`; `rr` is the random-read advice (`MADV_RANDOM`). Empty when the file
    /// is not mapped.
    public static func flags(of file: String) throws -> [[String]] {
        let target = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        // Read to the end: /proc files report a size of 0, which whole-file readers may trust.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { throw CocoaError(.fileReadNoPermission) }
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var result: [[String]] = []
        var inTarget = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A mapping's first line: "start-end perms offset dev inode [path]".
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inTarget = fields.count >= 6 && fields[5...].joined(separator: " ") == target
            } else if inTarget, fields.first == "VmFlags:" {
                result.append(fields.dropFirst().map(String.init))
            }
        }
        return result
    }
}
