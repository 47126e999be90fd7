import Foundation

/// This process's memory maps as the kernel lists them (`/proc/self/smaps`), to check what
/// densekit asked of the kernel about a mapped file.
public enum MemoryMaps {
    /// One mapping of a file: its `VmFlags` (e.g. `["rd", "mr", "rr"]`; `rr` is the random-read
    /// advice, `MADV_RANDOM`) and how much of it is resident in this process (`Rss`, bytes).
    public struct Mapping: Sendable {
        public var flags: [String] = []
        public var residentBytes = 0
    }

    /// Each mapping of `file` (its path, symbolic links resolved); empty when it is not mapped.
    public static func mappings(of file: String) throws -> [Mapping] {
        let target = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
        // Read to the end: /proc files report a size of 0, which whole-file readers may trust.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { throw CocoaError(.fileReadNoPermission) }
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var result: [Mapping] = []
        var inTarget = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A mapping's first line: "start-end perms offset dev inode [path]".
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inTarget = fields.count >= 6 && fields[5...].joined(separator: " ") == target
                if inTarget { result.append(Mapping()) }
            } else if inTarget, fields.first == "VmFlags:" {
                result[result.count - 1].flags = fields.dropFirst().map(String.init)
            } else if inTarget, fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
                result[result.count - 1].residentBytes = kilobytes * 1_024
            }
        }
        return result
    }

    /// The `VmFlags` of each mapping of `file`.
    public static func flags(of file: String) throws -> [[String]] { try mappings(of: file).map(\.flags) }
}
