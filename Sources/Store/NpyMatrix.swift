import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A NumPy `.npy` file holding a 2-D float32 matrix (little-endian `<f4`, C order): the format
/// `densekit embed --format npy` and `index export` write and `numpy.save` writes for a float32
/// array. The header is parsed at opening; rows are read on demand at their byte offset
/// (`pread`), so a matrix larger than memory (8.8M x 384 floats is 13.5 GB) is streamed, and
/// nothing of it stays resident beyond the rows asked for.
///
/// Hand-written: the format is a 10-byte preamble and a Python-dict header (NEP 1), too small
/// for a package.
public final class NpyMatrixFile: Sendable {
    public let path: String
    public let rows: Int
    public let columns: Int
    /// Byte offset of row 0.
    let dataOffset: Int
    private let descriptor: Int32

    /// Opens `path` and reads its header.
    /// - Throws: `VectorFileError` naming the file: unreadable, not a .npy file, another dtype
    ///   or order, not 2-D, or a size that disagrees with the header (a truncated file).
    public init(path: String) throws(VectorFileError) {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        self.descriptor = descriptor
        let fileSize = Int(info.st_size)
        var preamble = [UInt8](repeating: 0, count: 12)
        let got = preamble.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 12, 0) }
        guard got >= 10, preamble.prefix(6) == [0x93] + Array("NUMPY".utf8) else {
            close(descriptor)
            throw .malformed(path: path, reason: "not a .npy file (no \\x93NUMPY preamble)")
        }
        let major = preamble[6]
        let headerStart = major == 1 ? 10 : 12
        let headerLength = major == 1 ? Int(preamble[8]) | Int(preamble[9]) << 8
            : Int(preamble[8]) | Int(preamble[9]) << 8 | Int(preamble[10]) << 16 | Int(preamble[11]) << 24
        guard (1...3).contains(major), got >= headerStart, headerLength < 1 << 20, fileSize >= headerStart + headerLength else {
            close(descriptor)
            throw .malformed(path: path, reason: "truncated or unknown .npy header (version \(major))")
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        _ = headerBytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, headerLength, off_t(headerStart)) }
        let header = String(decoding: headerBytes, as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            Glibc.close(descriptor)
            throw .malformed(path: path, reason: "expected a C-order little-endian float32 matrix ('<f4', fortran_order False), header \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard shape.count == 2, let rows = Int(shape[0]), let columns = Int(shape[1]), rows >= 0, columns > 0 else {
            Glibc.close(descriptor)
            throw .malformed(path: path, reason: "expected 2 dimensions (rows, columns), shape (\(shape.joined(separator: ", ")))")
        }
        dataOffset = headerStart + headerLength
        guard fileSize - dataOffset == rows * columns * 4 else {
            Glibc.close(descriptor)
            throw .malformed(path: path, reason: "\(fileSize - dataOffset) data bytes for shape (\(rows), \(columns)), which needs \(rows * columns * 4) (truncated?)")
        }
        self.rows = rows
        self.columns = columns
    }

    deinit { close(descriptor) }

    /// Copies rows `range` into `output` (`range.count * columns` floats).
    public func read(rows range: Range<Int>, into output: UnsafeMutablePointer<Float>) throws(VectorFileError) {
        precondition(range.lowerBound >= 0)
        guard range.upperBound <= rows else {
            throw .malformed(path: path, reason: "has \(rows) rows; row \(range.upperBound - 1) was asked for")
        }
        var done = 0
        let total = range.count * columns * 4
        let raw = UnsafeMutableRawPointer(output)
        while done < total {
            let n = pread(descriptor, raw + done, total - done, off_t(dataOffset + range.lowerBound * columns * 4 + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .unreadable(path: path, reason: n == 0 ? "ended early" : String(cString: strerror(errno))) }
            done += n
        }
    }

    /// Rows `range`, row-major.
    public func read(rows range: Range<Int>) throws(VectorFileError) -> [Float] {
        var values = [Float](repeating: 0, count: range.count * columns)
        var failure: VectorFileError?
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            do throws(VectorFileError) { try read(rows: range, into: base) } catch { failure = error }
        }
        if let failure { throw failure }
        return values
    }

    /// Writes `values` (`rows x columns`, row-major) as a version-1 .npy file (see `NpyMatrixWriter`).
    public static func write(_ values: [Float], rows: Int, columns: Int, to path: String) throws(VectorFileError) {
        precondition(values.count == rows * columns)
        let writer = try NpyMatrixWriter(path: path, rows: rows, columns: columns)
        var failure: VectorFileError?
        values.withUnsafeBufferPointer { buffer in
            do throws(VectorFileError) { try writer.append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        try writer.finish()
    }

    /// The preamble and header of a `rows x columns` float32 matrix.
    static func header(rows: Int, columns: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Magic (6) + version (2) + header length (2) + header must be a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: header.utf8)
        return data
    }
}

/// Writes a `rows x columns` float32 `.npy` matrix a chunk of rows at a time (so that a matrix
/// larger than memory can be written), to `PATH.partial`, renamed to `PATH` by `finish` once
/// every row is there: a killed writer never leaves a file that looks whole.
public final class NpyMatrixWriter {
    public let path: String
    public let rows: Int, columns: Int
    private let handle: FileHandle
    private var written = 0
    private var partial: String { path + ".partial" }

    public init(path: String, rows: Int, columns: Int) throws(VectorFileError) {
        self.path = path
        self.rows = rows
        self.columns = columns
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: NpyMatrixFile.header(rows: rows, columns: columns)),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw .unwritable(path: path, reason: "cannot create \(partial)")
        }
        self.handle = handle
        do { try handle.seekToEnd() } catch { throw .unwritable(path: path, reason: error.localizedDescription) }
    }

    /// Appends whole rows (`values.count` a multiple of `columns`).
    public func append(_ values: UnsafeBufferPointer<Float>) throws(VectorFileError) {
        precondition(values.count % columns == 0 && written + values.count / columns <= rows)
        do { try handle.write(contentsOf: UnsafeRawBufferPointer(values)) } catch { throw .unwritable(path: path, reason: error.localizedDescription) }
        written += values.count / columns
    }

    /// Closes the file and gives it its name; every row must have been appended.
    public func finish() throws(VectorFileError) {
        precondition(written == rows, "\(written) of \(rows) rows written")
        do {
            try handle.synchronize()
            try handle.close()
        } catch { throw .unwritable(path: path, reason: error.localizedDescription) }
        guard rename(partial, path) == 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
    }
}

/// A vectors file that cannot be used; every case names the file.
public enum VectorFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .unwritable(path, reason): "\(path): cannot write: \(reason)"
        case let .malformed(path, reason): "\(path): \(reason)"
        }
    }
}
