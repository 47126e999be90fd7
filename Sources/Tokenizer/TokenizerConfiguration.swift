/// How text is normalized and split before WordPiece, and which tokens play the special roles.
///
/// The flags mirror Hugging Face's `BertNormalizer` and `WordPiece` model. The defaults are those of
/// uncased BERT models such as all-MiniLM-L6-v2.
public struct TokenizerConfiguration: Sendable, Equatable {
    /// Lowercase every scalar (full Unicode lowercase mapping, no context-dependent final sigma).
    public var lowercase: Bool
    /// Decompose (NFD) and drop nonspacing marks. `nil` follows `lowercase`, as Hugging Face does
    /// for `strip_accents: null`.
    public var stripAccents: Bool?
    /// Put CJK ideographs into words of their own.
    public var tokenizeChineseChars: Bool
    /// Drop control characters and map every kind of whitespace to a space.
    public var cleanText: Bool
    /// Words longer than this many Unicode scalars become the unknown token.
    public var maxInputCharsPerWord: Int
    /// Marks a wordpiece that continues a word rather than starting one.
    public var continuingSubwordPrefix: String
    /// Stands for a word that the vocabulary cannot spell.
    public var unknownToken: String
    /// Starts every sequence; its final hidden state is the classic sentence representation.
    public var clsToken: String
    /// Ends every segment.
    public var sepToken: String
    /// Fills batches to equal length; never produced by encoding itself.
    public var padToken: String
    /// The masked-language-model token; optional in the vocabulary.
    public var maskToken: String

    /// Creates a configuration; every argument defaults to uncased BERT's setting.
    public init(
        lowercase: Bool = true,
        stripAccents: Bool? = nil,
        tokenizeChineseChars: Bool = true,
        cleanText: Bool = true,
        maxInputCharsPerWord: Int = 100,
        continuingSubwordPrefix: String = "##",
        unknownToken: String = "[UNK]",
        clsToken: String = "[CLS]",
        sepToken: String = "[SEP]",
        padToken: String = "[PAD]",
        maskToken: String = "[MASK]"
    ) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseChars = tokenizeChineseChars
        self.cleanText = cleanText
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.unknownToken = unknownToken
        self.clsToken = clsToken
        self.sepToken = sepToken
        self.padToken = padToken
        self.maskToken = maskToken
    }

    /// Uncased BERT: lowercase and strip accents.
    public static let uncased = TokenizerConfiguration()

    /// Cased BERT: keep case and accents.
    public static let cased = TokenizerConfiguration(lowercase: false)

    /// Whether accents are stripped once `nil` has been resolved.
    public var stripsAccents: Bool { stripAccents ?? lowercase }
}
