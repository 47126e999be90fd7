import Foundation

/// Streams a text file line by line with constant memory, validating UTF-8 and counting lines.
///
/// Lines end at `\n`; a trailing `\r` is dropped (files written on Windows), and so is a UTF-8
/// byte-order mark at the start of the file. A final line without a newline is still returned.
/// Reads `-` as standard input.
public final class LineReader: Sequence, IteratorProtocol {
    /// One line of the file.
    public struct Line: Sendable {
        /// 1-based line number.
        public let number: Int
        public let text: String
    }

    /// The path as given, for error messages.
    public let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var lineNumber = 0
    private let chunkSize = 1 << 20

    /// Opens `path` (`-` for standard input).
    public init(path: String) throws(CorpusError) {
        self.path = path
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                let exists = FileManager.default.fileExists(atPath: path)
                throw CorpusError(path: path, line: 0, reason: exists ? "cannot be opened for reading" : "no such file")
            }
            self.handle = handle
        }
    }

    deinit { if path != "-" { try? handle.close() } }

    /// The next line, nil at the end of the file.
    /// - Throws: `CorpusError` naming the line when it is not valid UTF-8.
    public func nextLine() throws(CorpusError) -> Line? {
        while true {
            // Move past the line before decoding it, so that after a bad line (which throws)
            // the next call continues with the following one.
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let lineStart = start
                start = newline + 1
                return try makeLine(buffer[lineStart..<newline])
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let lineStart = start
                start = buffer.count
                return try makeLine(buffer[lineStart...])
            }
            // Keep the unfinished tail and read more after it.
            buffer.removeFirst(start)
            start = 0
            let chunk: Data?
            do { chunk = try handle.read(upToCount: chunkSize) } catch {
                throw CorpusError(path: path, line: lineNumber + 1, reason: "read failed: \(error.localizedDescription)")
            }
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { atEnd = true }
        }
    }

    /// `Sequence` conformance for callers that trust their input; stops at the first bad line.
    public func next() -> Line? { try? nextLine() }

    private func makeLine(_ bytes: ArraySlice<UInt8>) throws(CorpusError) -> Line {
        lineNumber += 1
        var slice = bytes
        // A UTF-8 byte-order mark (editors on Windows write one) is not part of the first line.
        if lineNumber == 1, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
        if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw CorpusError(path: path, line: lineNumber, reason: "not valid UTF-8")
        }
        return Line(number: lineNumber, text: text)
    }
}
