import DensekitEncoder
import DensekitTestSupport
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    /// Builds a safetensors file by hand, so the reader is checked against the format itself
    /// rather than only against our own writer.
    func handMade(_ entries: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])], headerPadding: Int = 0) -> Data {
        var header = "{"
        var offset = 0
        for (i, e) in entries.enumerated() {
            header += (i > 0 ? "," : "") + "\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":\(e.shape),\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}"
            offset += e.bytes.count
        }
        header += "}" + String(repeating: " ", count: headerPadding)
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        for e in entries { data.append(contentsOf: e.bytes) }
        return data
    }

    func write(_ data: Data) throws -> URL {
        let url = try TinyModel.temporaryFolder().appendingPathComponent("model.safetensors")
        try data.write(to: url)
        return url
    }

    @Test func readsF32F16AndBF16() throws {
        let f32: [Float] = [1.5, -2, 0.25, 3]
        let f32Bytes = f32.withUnsafeBytes { Array($0) }
        // 1.5, -2 and 0.25 are exact in all three formats.
        let f16Bytes = [Float16(1.5), Float16(-2), Float16(0.25)].withUnsafeBytes { Array($0) }
        let bf16Bytes = [Float(1.5), -2, 0.25].flatMap { value -> [UInt8] in
            let top = UInt16(value.bitPattern >> 16)
            return [UInt8(top & 0xFF), UInt8(top >> 8)]
        }
        let url = try write(handMade([("a", "F32", [2, 2], f32Bytes), ("b", "F16", [3], f16Bytes), ("c", "BF16", [3], bf16Bytes)], headerPadding: 3))
        let file = try SafeTensorsFile(url: url)
        #expect(try file.floats("a") == f32)
        #expect(try file.floats("b") == [1.5, -2, 0.25])
        #expect(try file.floats("c") == [1.5, -2, 0.25])
        #expect(file.tensors["a"]?.shape == [2, 2])
        #expect(file.parameterCount == 10)
    }

    @Test func writerOutputReadsBack() throws {
        let values: [Float] = (0..<12).map { Float($0) * 0.5 - 1 }
        let url = try TinyModel.temporaryFolder().appendingPathComponent("w.safetensors")
        try values.withUnsafeBufferPointer { buffer in
            try SafeTensorsWriter.write([
                .init(name: "x.weight", shape: [3, 4], values: buffer),
                .init(name: "x.bias", shape: [2], values: UnsafeBufferPointer(rebasing: buffer[0..<2])),
            ], to: url)
        }
        let file = try SafeTensorsFile(url: url)
        #expect(try file.floats("x.weight") == values)
        #expect(try file.floats("x.bias") == [-1, -0.5])
        #expect(file.metadata["format"] == "pt")
    }

    @Test func truncatedFileNamesTensorAndFile() throws {
        let bytes = [Float](repeating: 1, count: 8).withUnsafeBytes { Array($0) }
        var data = handMade([("weights", "F32", [8], bytes)])
        data.removeLast(5)
        let url = try write(data)
        #expect {
            try SafeTensorsFile(url: url)
        } throws: { error in
            let message = "\(error)"
            return message.contains(url.path) && message.contains("weights") && message.contains("truncated")
        }
    }

    @Test func headerLongerThanFileIsRefused() throws {
        var data = Data()
        withUnsafeBytes(of: UInt64(1_000_000).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: "{}".utf8)
        let url = try write(data)
        #expect(throws: ModelError.self) { try SafeTensorsFile(url: url) }
    }

    @Test func byteCountMustMatchShape() throws {
        let url = try write(handMade([("w", "F32", [3], [UInt8](repeating: 0, count: 8))]))
        #expect {
            try SafeTensorsFile(url: url)
        } throws: { "\($0)".contains("needs 12") }
    }

    @Test func unsupportedDtypeIsNamed() throws {
        let url = try write(handMade([("ids", "I64", [1], [UInt8](repeating: 0, count: 8))]))
        let file = try SafeTensorsFile(url: url)
        #expect {
            try file.floats("ids")
        } throws: { "\($0)".contains("I64") }
        #expect(throws: ModelError.missingTensor(path: url.path, name: "nope")) { try file.floats("nope") }
    }
}
