/// The two run-file layouts in common use.
public enum RunFormat: String, Sendable, CaseIterable {
    /// MS MARCO: `qid<TAB>pid<TAB>rank`, no score; rank 1 is best.
    case msmarco
    /// TREC: `qid Q0 docid rank score tag`; trec_eval orders by score and ignores the rank.
    case trec

    /// How many whitespace-separated fields a line has.
    public var fieldCount: Int {
        switch self {
        case .msmarco: 3
        case .trec: 6
        }
    }

    /// The line layout, for messages.
    public var layout: String {
        switch self {
        case .msmarco: "qid<TAB>pid<TAB>rank"
        case .trec: "qid Q0 docid rank score tag"
        }
    }

    /// The format whose lines have `fieldCount` fields: 3 is MS MARCO, 6 is TREC.
    public init?(fieldCount: Int) {
        guard let format = Self.allCases.first(where: { $0.fieldCount == fieldCount }) else { return nil }
        self = format
    }
}
