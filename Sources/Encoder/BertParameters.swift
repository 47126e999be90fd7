import Foundation

/// The values of a BERT encoder's parameters: one flat vector laid out by `BertLayout`.
///
/// Shared read-only by every encoding worker; training (which mutates it) owns its own copy.
public final class BertParameters: @unchecked Sendable {
    public let layout: BertLayout
    /// The flat parameter vector, `layout.count` floats.
    public let values: UnsafeMutablePointer<Float>

    /// Zero-filled parameters for `layout`.
    public init(layout: BertLayout) {
        self.layout = layout
        values = .allocate(capacity: max(layout.count, 1))
        values.initialize(repeating: 0, count: layout.count)
    }

    deinit { values.deallocate() }

    /// Pointer to the first element of the tensor at `offset` in the layout.
    @inline(__always)
    public func pointer(_ offset: Int) -> UnsafeMutablePointer<Float> { values + offset }

    /// Reads every tensor of `layout` from `file`, checking names and shapes.
    ///
    /// Accepts names with or without a leading `bert.` (BertModel vs. task-head checkpoints).
    public convenience init(file: SafeTensorsFile, layout: BertLayout) throws(ModelError) {
        self.init(layout: layout)
        let anchor = "embeddings.word_embeddings.weight"
        guard let prefix = ["", "bert.", "model."].first(where: { file.tensors[$0 + anchor] != nil }) else {
            throw .missingTensor(path: file.path, name: anchor)
        }
        for slot in layout.slots {
            let name = prefix + slot.name
            guard let info = file.tensors[name] else { throw .missingTensor(path: file.path, name: name) }
            guard info.shape == slot.shape else {
                throw .shapeMismatch(path: file.path, name: name, expected: slot.shape, found: info.shape)
            }
            let floats = try file.floats(name)
            floats.withUnsafeBufferPointer { source in
                (values + slot.offset).update(from: source.baseAddress!, count: slot.count)
            }
        }
    }

    /// Random parameters for tests: weights ~ U(-scale, scale), layer-norm gains near 1.
    public convenience init<G: RandomNumberGenerator>(randomFor layout: BertLayout, scale: Float = 0.1, using generator: inout G) {
        self.init(layout: layout)
        for slot in layout.slots {
            let isGain = slot.name.hasSuffix("LayerNorm.weight")
            for k in 0..<slot.count {
                let u = Float.random(in: -scale...scale, using: &generator)
                values[slot.offset + k] = isGain ? 1 + u : u
            }
        }
    }
}
