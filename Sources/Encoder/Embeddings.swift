/// A matrix of embeddings, one row per input text, in input order.
public struct Embeddings: Sendable, Equatable {
    /// Number of rows.
    public let count: Int
    /// Width of each row.
    public let dimension: Int
    /// Row-major values, `count * dimension` floats.
    public var values: [Float]

    /// A `count x dimension` matrix from its row-major values.
    public init(count: Int, dimension: Int, values: [Float]) {
        precondition(values.count == count * dimension, "embedding matrix size mismatch")
        self.count = count
        self.dimension = dimension
        self.values = values
    }

    /// Row `index`, as a new array indexed from 0.
    public subscript(index: Int) -> [Float] {
        Array(values[(index * dimension)..<((index + 1) * dimension)])
    }
}
