/// A BERT WordPiece tokenizer that reproduces Hugging Face tokenizers' `BertNormalizer`,
/// `BertPreTokenizer`, `WordPiece` model and BERT post-processing id for id.
///
/// Immutable after creation, so one instance may serve any number of threads.
public final class WordPieceTokenizer: Sendable {
    /// The settings the tokenizer was built with.
    public let configuration: TokenizerConfiguration
    /// Size of the id space (highest id + 1): the encoder's embedding table needs this many rows.
    public let vocabularySize: Int
    /// Id of the token that starts every encoding.
    public let clsId: Int32
    /// Id of the token that ends every segment.
    public let sepId: Int32
    /// Id to pad batches with.
    public let padId: Int32
    /// Id of the token that replaces words the vocabulary cannot spell.
    public let unkId: Int32

    let normalizer: BertNormalizer
    let wordPiece: WordPiece
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher
    let tokensById: [String]
    /// The vocabulary in id order (`vocabulary[id]` is the token).
    public var vocabulary: [String] { tokensById }

    /// Creates a tokenizer from a vocabulary in id order (`vocabulary[id]` is the token).
    ///
    /// The configured special tokens found in the vocabulary are matched in raw text, as
    /// Hugging Face does for BERT. Throws if a token occurs twice, the vocabulary is empty or the
    /// unknown, CLS, SEP or PAD token is missing.
    public convenience init(vocabulary: [String], configuration: TokenizerConfiguration = .uncased) throws {
        try self.init(
            vocabulary: vocabulary, configuration: configuration, source: "vocabulary")
    }

    /// `source` names the vocabulary in errors; token `i` is on line `i + 1` of it.
    convenience init(vocabulary: [String], configuration: TokenizerConfiguration, source: String) throws {
        var idOf: [String: Int32] = [:]
        idOf.reserveCapacity(vocabulary.count)
        var entries: [(token: String, id: Int32)] = []
        entries.reserveCapacity(vocabulary.count)
        for (index, token) in vocabulary.enumerated() {
            guard let id = Int32(exactly: index) else {
                throw TokenizerError.invalidId(source: source, id: index, token: token)
            }
            if let first = idOf[token] {
                throw TokenizerError.duplicateToken(
                    source: source, line: index + 1, firstLine: Int(first) + 1, token: token)
            }
            idOf[token] = id
            entries.append((token, id))
        }
        var added: [AddedToken] = []
        for special in [
            configuration.unknownToken, configuration.clsToken, configuration.sepToken,
            configuration.padToken, configuration.maskToken,
        ] where !added.contains(where: { $0.content == special }) {
            if let id = idOf[special] { added.append(AddedToken(content: special, id: id, normalized: false)) }
        }
        try self.init(entries: entries, addedTokens: added, configuration: configuration, source: source)
    }

    /// The common initializer: `entries` are unique tokens with unique ids.
    init(
        entries: [(token: String, id: Int32)], addedTokens: [AddedToken], configuration: TokenizerConfiguration,
        source: String
    ) throws {
        guard !entries.isEmpty else { throw TokenizerError.emptyVocabulary(source: source) }
        guard configuration.maxInputCharsPerWord > 0 else {
            throw TokenizerError.invalidConfiguration(
                reason: "maxInputCharsPerWord must be positive, got \(configuration.maxInputCharsPerWord)")
        }
        var idOf: [String: Int32] = [:]
        idOf.reserveCapacity(entries.count + addedTokens.count)
        var maxId: Int32 = -1
        for entry in entries {
            idOf[entry.token] = entry.id
            maxId = max(maxId, entry.id)
        }
        for token in addedTokens {
            if idOf[token.content] == nil { idOf[token.content] = token.id }
            maxId = max(maxId, token.id)
        }
        func require(_ token: String, _ role: String) throws -> Int32 {
            guard let id = idOf[token] else {
                throw TokenizerError.missingSpecialToken(source: source, role: role, token: token)
            }
            return id
        }
        unkId = try require(configuration.unknownToken, "unknown")
        clsId = try require(configuration.clsToken, "CLS")
        sepId = try require(configuration.sepToken, "SEP")
        padId = try require(configuration.padToken, "PAD")

        self.configuration = configuration
        vocabularySize = Int(maxId) + 1
        var tokensById = [String](repeating: "", count: vocabularySize)
        for entry in entries { tokensById[Int(entry.id)] = entry.token }
        for token in addedTokens { tokensById[Int(token.id)] = token.content }
        self.tokensById = tokensById

        let normalizer = BertNormalizer(
            cleanText: configuration.cleanText, handleChineseChars: configuration.tokenizeChineseChars,
            stripAccents: configuration.stripsAccents, lowercase: configuration.lowercase)
        self.normalizer = normalizer
        wordPiece = WordPiece(
            vocabulary: Vocabulary(tokens: entries, continuingSubwordPrefix: configuration.continuingSubwordPrefix),
            unknownId: unkId, maxInputCharsPerWord: configuration.maxInputCharsPerWord)
        rawAddedTokens = AddedTokenMatcher(
            addedTokens.filter { !$0.normalized }.map { (Array($0.content.utf8), $0.id) })
        // HF matches normalized added tokens by their own normalized form.
        var scratch = BertNormalizer.Scratch()
        normalizedAddedTokens = AddedTokenMatcher(
            addedTokens.filter { $0.normalized }.map { token in
                var bytes: [UInt8] = []
                var content = token.content
                content.withUTF8 { normalizer.normalize($0, into: &bytes, scratch: &scratch) }
                return (bytes, token.id)
            })
    }
}
