/// Several token sequences packed end to end, without padding.
///
/// Linear layers run over all tokens of the batch as one `[tokens, hidden]` matrix, and
/// attention runs per sequence over its true length, so no FLOP is spent on padding and no
/// attention mask is needed: the result equals a padded, masked batch.
public struct TokenBatch: Sendable, Equatable {
    /// Token ids of all sequences, concatenated.
    public var ids: [Int32] = []
    /// Segment (token type) ids, parallel to `ids`.
    public var typeIds: [Int32] = []
    /// `offsets[s]..<offsets[s+1]` are sequence `s`'s tokens; starts with 0.
    public var offsets: [Int] = [0]

    /// An empty batch.
    public init() {}

    /// Number of sequences.
    public var count: Int { offsets.count - 1 }
    /// Total number of tokens.
    public var tokenCount: Int { ids.count }
    /// Length of the longest sequence.
    public var maxLength: Int { (0..<count).map { length(of: $0) }.max() ?? 0 }

    /// Number of tokens in sequence `s`.
    @inline(__always)
    public func length(of s: Int) -> Int { offsets[s + 1] - offsets[s] }

    /// Appends one sequence.
    public mutating func append(ids newIds: [Int32], typeIds newTypes: [Int32]) {
        precondition(newIds.count == newTypes.count, "ids and type ids differ in length")
        ids.append(contentsOf: newIds)
        typeIds.append(contentsOf: newTypes)
        offsets.append(ids.count)
    }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        typeIds.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
    }
}
