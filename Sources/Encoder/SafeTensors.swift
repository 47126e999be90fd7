import Foundation

/// A parsed `.safetensors` file: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// The file is memory-mapped; tensors are converted to `Float` only when asked for, so loading
/// a model touches each weight once. Written by hand: there is no Swift package for the format.
public struct SafeTensorsFile: @unchecked Sendable {
    /// Element types densekit reads (others are listed but cannot be loaded as floats).
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i64 = "I64", i32 = "I32", i8 = "I8", u8 = "U8", bool = "BOOL"

        var byteSize: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    /// One tensor's header entry.
    public struct TensorInfo: Sendable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
        /// Product of the shape (checked against the byte range when the file was read).
        public let elementCount: Int
    }

    /// The file's path, for error messages.
    public let path: String
    /// Header entries by tensor name.
    public let tensors: [String: TensorInfo]
    /// String metadata from the header's `__metadata__`, if any.
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    /// Maps and parses `url`, checking that every tensor lies inside the file and that its
    /// byte length matches its dtype and shape.
    public init(url: URL) throws(ModelError) {
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw .missingFile(path: path, need: "model weights")
        }
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count >= 8 else { throw .invalidWeights(path: path, reason: "file is \(data.count) bytes, shorter than its header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw .invalidWeights(path: path, reason: "header length \(headerLength) exceeds the file size \(data.count) (truncated?)")
        }
        dataStart = 8 + Int(headerLength)
        let header: Any
        do { header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) } catch {
            throw .invalidWeights(path: path, reason: "header is not valid JSON")
        }
        guard let entries = header as? [String: Any] else {
            throw .invalidWeights(path: path, reason: "header is not a JSON object")
        }
        let dataLength = data.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String }
                continue
            }
            // Integers only, exactly: a huge or fractional number is an error, never rounded.
            func integers(_ value: Any?) -> [Int]? {
                guard let numbers = value as? [NSNumber] else { return nil }
                let exact = numbers.compactMap { Int(exactly: $0) }
                return exact.count == numbers.count ? exact : nil
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shape = integers(entry["shape"]),
                  let offsets = integers(entry["data_offsets"]), offsets.count == 2 else {
                throw .invalidWeights(path: path, reason: "malformed header entry for '\(name)' (dtype, shape and data_offsets must be a string and integer lists)")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw .invalidWeights(path: path, reason: "tensor '\(name)' has unknown dtype \(dtypeName)")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], shape.allSatisfy({ $0 >= 0 }) else {
                throw .invalidWeights(path: path, reason: "tensor '\(name)' has invalid offsets \(offsets) or shape \(shape)")
            }
            guard offsets[1] <= dataLength else {
                throw .invalidWeights(path: path, reason: "tensor '\(name)' ends at byte \(offsets[1]) but the data section has \(dataLength) bytes (truncated?)")
            }
            // Checked arithmetic: a shape whose size overflows cannot match the bytes present.
            var elements = 1, overflow = false
            for extent in shape where !overflow {
                (elements, overflow) = elements.multipliedReportingOverflow(by: extent)
            }
            let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            let info = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1], elementCount: elements)
            guard !overflow, !bytesOverflow, bytes == info.range.count else {
                let need = overflow || bytesOverflow ? "more than \(Int.max)" : "\(bytes)"
                throw .invalidWeights(path: path, reason: "tensor '\(name)' holds \(info.range.count) bytes, but \(dtypeName)\(shape) needs \(need)")
            }
            tensors[name] = info
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor `name` converted to `Float` (F32, F16 or BF16), row-major.
    public func floats(_ name: String) throws(ModelError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
        guard [.f32, .f16, .bf16].contains(info.dtype) else {
            throw .unsupported(path: path, reason: "tensor '\(name)' has dtype \(info.dtype.rawValue); densekit reads F32, F16 and BF16")
        }
        let count = info.elementCount
        let start = dataStart + info.range.lowerBound
        return data.withUnsafeBytes { raw -> [Float] in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + info.range.count)])
            switch info.dtype {
            case .f16:
                return (0..<count).map { Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .bf16:
                // bfloat16 is the top half of a float32.
                return (0..<count).map { Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
            default:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
                    initialized = count
                }
            }
        }
    }

    /// Number of floating-point parameters in the file (integer buffers such as position ids excluded).
    public var parameterCount: Int {
        tensors.values.filter { [.f32, .f16, .bf16, .f64].contains($0.dtype) }.reduce(0) { $0 + $1.elementCount }
    }
}
