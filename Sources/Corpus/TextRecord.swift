/// A text with an id, as read from a corpus or a queries file: a `Passage` or a `Query`.
///
/// The two are separate types so that a queries file cannot be handed to code expecting passages
/// by mistake; the readers are generic over this protocol because the file formats are the same.
public protocol TextRecord: Sendable, Hashable {
    /// The id as written in the file (integer JSON ids become their decimal text).
    var id: String { get }
    /// The text to embed. For BEIR documents with a title: title + " " + text.
    var text: String { get }
    init(id: String, text: String)
    /// The id's name in messages: MS MARCO calls them "pid" and "qid".
    static var idName: String { get }
    /// Whether the reader refuses an id read twice. Queries: two texts under one id make
    /// every run and metric ambiguous. Passages: no, the store's --on-duplicate policy decides.
    static var idsAreUnique: Bool { get }
}

/// A passage (document) of a collection.
public struct Passage: TextRecord {
    /// The passage id (MS MARCO pid, BEIR corpus-id).
    public let id: String
    /// The passage text; for a BEIR document with a non-empty title, title + " " + text, the
    /// string BEIR and sentence-transformers embed.
    public let text: String

    /// A passage with `id` and `text`.
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }

    /// "pid", MS MARCO's name for passage ids.
    public static var idName: String { "pid" }
    public static var idsAreUnique: Bool { false }
}

/// A query (topic) to search for.
public struct Query: TextRecord {
    /// The query id (MS MARCO qid, BEIR query-id).
    public let id: String
    /// The query text.
    public let text: String

    public static var idsAreUnique: Bool { true }

    /// A query with `id` and `text`.
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }

    /// "qid", MS MARCO's name for query ids.
    public static var idName: String { "qid" }
}
