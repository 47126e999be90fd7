/// Runs `body` with buffer pointers to each of `arrays` (valid only inside `body`): for writers
/// that take several arrays' storage at once, such as a safetensors file of many tensors.
public func withBufferPointers<R>(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) throws -> R) rethrows -> R {
    func nest(_ index: Int, _ done: [UnsafeBufferPointer<Float>]) throws -> R {
        guard index < arrays.count else { return try body(done) }
        return try arrays[index].withUnsafeBufferPointer { try nest(index + 1, done + [$0]) }
    }
    return try nest(0, [])
}
