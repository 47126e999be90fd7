import DensekitEncoder
import DensekitTestSupport
import Foundation
import Testing

/// Model folders damaged in every way a download, an editor or a hostile file can damage them:
/// loading ends in a `ModelError` naming the folder's file, never in a trap, an abort or an
/// allocation of what a corrupted size claims.
@Suite struct MalformedModelTests {
    func modelFolder() throws -> URL {
        try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 3))
    }

    /// Loads the folder; returns the error, nil when it loaded.
    func loadError(_ folder: URL) -> (any Error)? {
        do {
            _ = try SentenceEncoder.load(directory: folder)
            return nil
        } catch { return error }
    }

    @Test func safetensorsHeaderMutantsFailWithTheFileNamed() throws {
        let folder = try modelFolder()
        let file = folder.appendingPathComponent("model.safetensors")
        let valid = Array(try Data(contentsOf: file))
        let headerEnd = 8 + Int(valid[0]) | Int(valid[1]) << 8
        var mutator = InputMutator(seed: 41)
        var rejected = 0
        for iteration in 0..<InputMutator.iterations {
            try Data(mutator.mutate(valid, focus: 0..<headerEnd)).write(to: file)
            guard let error = loadError(folder) else { continue }
            rejected += 1
            #expect(error is ModelError && "\(error)".contains(folder.path), "mutant \(iteration): \(error)")
        }
        #expect(rejected > InputMutator.iterations / 2)
    }

    @Test func configMutantsFailWithTheFolderNamed() throws {
        let folder = try modelFolder()
        let file = folder.appendingPathComponent("config.json")
        let valid = Array(try Data(contentsOf: file))
        var mutator = InputMutator(seed: 42)
        var rejected = 0
        for iteration in 0..<InputMutator.iterations {
            try Data(mutator.mutate(valid)).write(to: file)
            guard let error = loadError(folder) else { continue }
            rejected += 1
            #expect(error is ModelError && "\(error)".contains(folder.path), "mutant \(iteration): \(error)")
        }
        #expect(rejected > InputMutator.iterations / 2)
    }

    /// A shape whose element count overflows Int, with a byte range that multiplies back to a
    /// small number when the product wraps: refused by checked arithmetic.
    @Test func overflowingShapeIsRefused() throws {
        let url = try TinyModel.temporaryFolder().appendingPathComponent("model.safetensors")
        for shape in ["[4294967296,4294967296,16]", "[9223372036854775807,2]", "[1e30]", "[-4,-2]", "[2.5]"] {
            let header = #"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,8]}}"#
            var data = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: header.utf8)
            data.append(contentsOf: [UInt8](repeating: 0, count: 8))
            try data.write(to: url)
            #expect(throws: ModelError.self, "shape \(shape)") { try SafeTensorsFile(url: url) }
        }
    }

    /// Sizes far beyond any BERT are refused from config.json alone, before any allocation.
    @Test func absurdConfigSizesAreRefused() throws {
        let folder = try modelFolder()
        let file = folder.appendingPathComponent("config.json")
        let valid = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
        for (key, value) in [("hidden_size", 1_000_000_000_000 as Int64), ("vocab_size", 1 << 40), ("num_hidden_layers", 100_000),
                             ("intermediate_size", Int64(Int32.max)), ("max_position_embeddings", 1 << 33)] {
            var config = valid
            config[key] = NSNumber(value: value)
            try JSONSerialization.data(withJSONObject: config).write(to: file)
            #expect { try SentenceEncoder.load(directory: folder) } throws: { "\($0)".contains("'\(key)'") && "\($0)".contains("at most") }
        }
    }

    /// A byte-order mark before config.json's JSON (Windows editors) is not an error.
    @Test func byteOrderMarkInConfigIsSkipped() throws {
        let folder = try modelFolder()
        let file = folder.appendingPathComponent("config.json")
        try Data([0xEF, 0xBB, 0xBF] + Array(try Data(contentsOf: file))).write(to: file)
        #expect(loadError(folder) == nil)
    }
}
