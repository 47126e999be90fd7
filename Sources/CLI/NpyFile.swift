import Foundation

/// Reads and writes NumPy `.npy` files (little-endian float32, C order, 2-D).
enum NpyFile {
    /// Reads a 2-D float32 matrix written by `write` or by NumPy.
    static func read(_ path: String) throws -> (values: [Float], rows: Int, columns: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ValidationErrorMessage("\(path): cannot read: \(error.localizedDescription)")
        }
        guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else {
            throw ValidationErrorMessage("\(path): not a .npy file")
        }
        let major = data[6]
        let headerStart = major == 1 ? 10 : 12
        guard data.count >= headerStart else { throw ValidationErrorMessage("\(path): truncated header") }
        let headerLength = major == 1 ? Int(data[8]) | Int(data[9]) << 8
            : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        guard data.count >= headerStart + headerLength else { throw ValidationErrorMessage("\(path): truncated header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw ValidationErrorMessage("\(path): expected a C-order float32 matrix, header \(header)")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 2 else { throw ValidationErrorMessage("\(path): expected 2 dimensions, header \(header)") }
        let start = headerStart + headerLength
        guard data.count - start == dims[0] * dims[1] * 4 else {
            throw ValidationErrorMessage("\(path): \(data.count - start) data bytes for shape (\(dims[0]), \(dims[1])) (truncated?)")
        }
        let values = data[start...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (values, dims[0], dims[1])
    }

    static func write(_ values: [Float], rows: Int, columns: Int, to path: String) throws {
        precondition(values.count == rows * columns)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Magic (6) + version (2) + header length (2) + header must be a multiple of 64, ending in \n.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: header.utf8)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ValidationErrorMessage("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
