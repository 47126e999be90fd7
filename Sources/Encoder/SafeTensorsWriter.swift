import Foundation

/// Writes float32 tensors in the `.safetensors` format (the same layout `SafeTensorsFile` reads).
public enum SafeTensorsWriter {
    /// One tensor to write.
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let values: UnsafeBufferPointer<Float>

        /// A tensor named `name` of `shape`; `values` must stay valid until written.
        public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
            precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) does not match \(values.count) values")
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `tensors` to `url` atomically (temporary file, then rename), in the given order.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for tensor in tensors {
            let bytes = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors { data.append(UnsafeRawBufferPointer(tensor.values).bindMemory(to: UInt8.self)) }
        try data.write(to: url, options: .atomic)
    }
}
