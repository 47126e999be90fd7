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
    /// Accepts encoder and pooler names with or without a leading `bert.` (BertModel vs. task-head
    /// checkpoints); the classifier's names are the task head's own (`classifier.weight`).
    public convenience init(file: SafeTensorsFile, layout: BertLayout) throws(ModelError) {
        let prefix = try Self.bodyPrefix(in: file)
        // Every name and shape is checked before anything is allocated: a config.json that does
        // not match its weights fails here, whatever sizes it claims.
        for slot in layout.slots { _ = try Self.entry(for: slot, in: file, prefix: prefix) }
        self.init(layout: layout)
        for slot in layout.slots { try read(slot, from: file, prefix: prefix) }
    }

    /// The file's header entry for `slot`, checked against the slot's shape.
    private static func entry(for slot: BertLayout.Slot, in file: SafeTensorsFile, prefix: String) throws(ModelError) -> SafeTensorsFile.TensorInfo {
        let name = fileName(of: slot, prefix: prefix)
        guard let info = file.tensors[name] else { throw .missingTensor(path: file.path, name: name) }
        guard info.shape == slot.shape else {
            throw .shapeMismatch(path: file.path, name: name, expected: slot.shape, found: info.shape)
        }
        return info
    }

    /// The prefix of the body's tensor names in `file`: "", "bert." or "model.".
    public static func bodyPrefix(in file: SafeTensorsFile) throws(ModelError) -> String {
        let anchor = "embeddings.word_embeddings.weight"
        guard let prefix = ["", "bert.", "model."].first(where: { file.tensors[$0 + anchor] != nil }) else {
            throw .missingTensor(path: file.path, name: anchor)
        }
        return prefix
    }

    /// The name `slot` has in a file whose body tensors carry `prefix`.
    public static func fileName(of slot: BertLayout.Slot, prefix: String) -> String {
        slot.block == .classifier ? slot.name : prefix + slot.name
    }

    /// Copies one tensor from `file` into its slot, checking its shape.
    public func read(_ slot: BertLayout.Slot, from file: SafeTensorsFile, prefix: String) throws(ModelError) {
        _ = try Self.entry(for: slot, in: file, prefix: prefix)
        let floats = try file.floats(Self.fileName(of: slot, prefix: prefix))
        floats.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            (values + slot.offset).update(from: base, count: slot.count)
        }
    }

    /// A copy of these values in a new vector (training owns its own parameters).
    public func copy() -> BertParameters {
        let copy = BertParameters(layout: layout)
        copy.values.update(from: values, count: layout.count)
        return copy
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
