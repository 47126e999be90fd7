/// The model input for one sequence or pair: token ids and segment (token type) ids, equally long.
///
/// There is no padding, so the attention mask is implicitly all ones; batching code pads with
/// ``WordPieceTokenizer/padId`` and masks the padding itself.
public struct Encoding: Sendable, Equatable {
    /// Token ids, starting with [CLS] and ending with [SEP].
    public var ids: [Int32]
    /// 0 for the first segment (with [CLS] and its [SEP]), 1 for the second segment of a pair.
    public var typeIds: [Int32]

    /// Creates an encoding; `ids` and `typeIds` must have the same length.
    public init(ids: [Int32], typeIds: [Int32]) {
        precondition(ids.count == typeIds.count, "ids and typeIds differ in length")
        self.ids = ids
        self.typeIds = typeIds
    }

    /// Number of tokens, special tokens included.
    public var count: Int { ids.count }
}
