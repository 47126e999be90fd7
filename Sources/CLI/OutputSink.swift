import Foundation

/// Buffered text output to a file or standard output.
final class OutputSink {
    private let handle: FileHandle
    private let path: String
    private var buffer = Data()

    /// Opens `path` for writing (truncating it); `-` is standard output.
    init(path: String) throws {
        self.path = path
        if path == "-" {
            handle = FileHandle.standardOutput
        } else {
            // open(2), truncating in place (FileManager.createFile renames a new file over the
            // path: `-o /dev/null` became a regular file).
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw ValidationErrorMessage("\(path): cannot be created for writing: \(String(cString: strerror(errno)))")
            }
            self.handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw ValidationErrorMessage("\(path): write failed: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if path != "-" { try handle.close() }
    }
}

/// An error that is just its message.
struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Minimal JSON text helpers for hand-written JSON lines (faster than JSONEncoder for big float arrays).
enum JSONText {
    /// `value` as a JSON string literal.
    static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
