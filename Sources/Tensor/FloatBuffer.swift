/// A growable, 64-byte aligned array of `Float` for scratch space that is reused across batches.
///
/// The encoder's hot loops run over raw pointers; keeping one `FloatBuffer` per intermediate
/// (and growing it only when a larger batch arrives) means no allocation per token or per batch.
/// Not thread-safe: each worker owns its buffers.
public final class FloatBuffer {
    /// The start of the storage; valid until the next call to `reserve(_:)` that grows it.
    public private(set) var pointer: UnsafeMutablePointer<Float>
    /// Number of floats the storage holds.
    public private(set) var capacity: Int

    /// Creates a buffer holding at least `capacity` floats (contents undefined).
    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = FloatBuffer.allocate(self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats and returns the (possibly new) start. Contents are not kept.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            // Grow by half again so slowly rising batch lengths do not reallocate each time.
            capacity = max(count, capacity + capacity / 2)
            pointer = FloatBuffer.allocate(capacity)
        }
        return pointer
    }

    /// Sets the first `count` floats to zero.
    public func zero(_ count: Int) {
        precondition(count <= capacity)
        pointer.update(repeating: 0, count: count)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: count)
    }
}
