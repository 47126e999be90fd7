import DensekitCorpus
import Foundation

/// Writes a run file one query at a time, so that a search never holds all results to write them.
///
/// Ranks are written 1, 2, ... in the order given. TREC lines carry the score; a document without
/// one gets n - i + 1 for rank i of n, so that trec_eval's score order is the given order. Note that
/// trec_eval reorders equal scores by docid: give distinct scores where the order of ties matters.
public final class RunWriter {
    /// The path written to (`-` = standard output), for messages.
    public let path: String
    /// The layout of the lines.
    public let format: RunFormat
    /// The TREC run tag (last column).
    public let tag: String
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer: [UInt8] = []
    private var linesWritten = 0

    /// Writes to `path`, truncating it; `-` is standard output.
    /// - Throws: `CorpusError` when the file cannot be created or the tag contains whitespace.
    public convenience init(path: String, format: RunFormat, tag: String = "densekit") throws(CorpusError) {
        if path == "-" {
            try self.init(handle: .standardOutput, path: path, format: format, tag: tag)
            return
        }
        // open(2), truncating in place: FileManager.createFile replaces the path by renaming a
        // new file over it, which turned `-o /dev/null` into a regular file (run as root).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CorpusError(path: path, line: 0, reason: "cannot be created for writing: \(String(cString: strerror(errno)))")
        }
        try self.init(handle: FileHandle(fileDescriptor: descriptor, closeOnDealloc: true), path: path, format: format, tag: tag, ownsHandle: true)
    }

    /// Writes to an open `handle`; `path` only names it in messages. The handle is not closed.
    public convenience init(handle: FileHandle, path: String, format: RunFormat, tag: String = "densekit") throws(CorpusError) {
        try self.init(handle: handle, path: path, format: format, tag: tag, ownsHandle: false)
    }

    private init(handle: FileHandle, path: String, format: RunFormat, tag: String, ownsHandle: Bool) throws(CorpusError) {
        guard Self.isField(tag) else { throw CorpusError(path: path, line: 0, reason: "run tag '\(tag)' is empty or contains whitespace") }
        self.handle = handle
        self.path = path
        self.format = format
        self.tag = tag
        self.ownsHandle = ownsHandle
    }

    /// Unwritten lines are flushed here as a last resort; call `close()` to see write errors.
    deinit {
        try? flush()
        if ownsHandle { try? handle.close() }
    }

    /// Appends the ranking of one query, best first.
    /// - Throws: `CorpusError` naming the line that would be written when an id is empty or holds
    ///   whitespace (it would break the whitespace-separated file) or a score is not finite; or a write failure.
    public func write(queryId: String, ranking: [RankedDoc]) throws(CorpusError) {
        guard Self.isField(queryId) else {
            throw CorpusError(path: path, line: linesWritten + 1, reason: "query id '\(queryId)' is empty or contains whitespace")
        }
        for (index, doc) in ranking.enumerated() {
            let rank = index + 1
            guard Self.isField(doc.docId) else {
                throw CorpusError(path: path, line: linesWritten + 1, reason: "document id '\(doc.docId)' is empty or contains whitespace")
            }
            let line: String
            switch format {
            case .msmarco:
                line = "\(queryId)\t\(doc.docId)\t\(rank)\n"
            case .trec:
                let score = doc.score ?? Double(ranking.count - index)
                guard score.isFinite else {
                    throw CorpusError(path: path, line: linesWritten + 1, reason: "score of '\(doc.docId)' is not finite")
                }
                line = "\(queryId) Q0 \(doc.docId) \(rank) \(score) \(tag)\n"
            }
            buffer.append(contentsOf: line.utf8)
            linesWritten += 1
        }
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes buffered lines out.
    public func flush() throws(CorpusError) {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw CorpusError(path: path, line: 0, reason: "write failed: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, and closes the file when this writer opened it.
    public func close() throws(CorpusError) {
        try flush()
        guard ownsHandle else { return }
        do { try handle.close() } catch {
            throw CorpusError(path: path, line: 0, reason: "close failed: \(error.localizedDescription)")
        }
    }

    private static func isField(_ text: String) -> Bool {
        !text.isEmpty && !text.unicodeScalars.contains { $0.properties.isWhitespace }
    }
}
