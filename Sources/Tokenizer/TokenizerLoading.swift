import Foundation

extension WordPieceTokenizer {
    /// Loads a vocab.txt: one token per line, the id of a token being its line index.
    ///
    /// Errors name the file and line: missing or unreadable file, invalid UTF-8, duplicate token,
    /// empty vocabulary, missing special token.
    public static func load(
        vocabFile: URL, configuration: TokenizerConfiguration = .uncased
    ) throws -> WordPieceTokenizer {
        let tokens = try TokenizerFiles.readVocabulary(vocabFile)
        return try WordPieceTokenizer(vocabulary: tokens, configuration: configuration, source: vocabFile.path)
    }

    /// Loads a Hugging Face tokenizer.json with a WordPiece model: the vocabulary from
    /// `model.vocab`, the flags of its `BertNormalizer`, the special tokens from the post-processor,
    /// and its added tokens.
    ///
    /// Throws ``TokenizerError/unsupported(path:reason:)`` for other models, normalizers or
    /// pre-tokenizers, whose tokenization this type would not reproduce.
    public static func load(tokenizerJSON: URL) throws -> WordPieceTokenizer {
        try load(tokenizerJSON: tokenizerJSON, lowercaseOverride: nil)
    }

    /// Loads the tokenizer of a model directory: tokenizer.json when present, otherwise vocab.txt
    /// with the flags and token names of tokenizer_config.json (uncased when it does not say).
    ///
    /// - Parameter lowercaseOverride: forces lowercasing on or off whatever the files say; accent
    ///   stripping follows it unless a file sets `strip_accents` explicitly.
    public static func load(modelDirectory: URL, lowercaseOverride: Bool? = nil) throws -> WordPieceTokenizer {
        let tokenizerJSON = modelDirectory.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            return try load(tokenizerJSON: tokenizerJSON, lowercaseOverride: lowercaseOverride)
        }
        var configuration = TokenizerConfiguration.uncased
        let configURL = modelDirectory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            let config = try TokenizerConfigJSON(url: configURL)
            configuration.lowercase = config.doLowerCase ?? true
            configuration.stripAccents = config.stripAccents
            configuration.tokenizeChineseChars = config.tokenizeChineseChars ?? true
            configuration.unknownToken = config.tokens["unk_token"] ?? configuration.unknownToken
            configuration.clsToken = config.tokens["cls_token"] ?? configuration.clsToken
            configuration.sepToken = config.tokens["sep_token"] ?? configuration.sepToken
            configuration.padToken = config.tokens["pad_token"] ?? configuration.padToken
            configuration.maskToken = config.tokens["mask_token"] ?? configuration.maskToken
        }
        if let lowercaseOverride { configuration.lowercase = lowercaseOverride }
        return try load(vocabFile: modelDirectory.appendingPathComponent("vocab.txt"), configuration: configuration)
    }

    private static func load(tokenizerJSON url: URL, lowercaseOverride: Bool?) throws -> WordPieceTokenizer {
        let path = url.path
        let file = try TokenizerFiles.decodeJSON(TokenizerJSON.self, from: url)
        if let type = file.model.type, type != "WordPiece" {
            throw TokenizerError.unsupported(path: path, reason: "model type \(type), expected WordPiece")
        }
        var configuration = TokenizerConfiguration()
        if let normalizer = file.normalizer {
            guard normalizer.type == "BertNormalizer" else {
                throw TokenizerError.unsupported(path: path, reason: "normalizer \(normalizer.type)")
            }
            configuration.cleanText = normalizer.cleanText ?? true
            configuration.tokenizeChineseChars = normalizer.handleChineseChars ?? true
            configuration.stripAccents = normalizer.stripAccents
            configuration.lowercase = normalizer.lowercase ?? true
        } else {
            configuration.cleanText = false
            configuration.tokenizeChineseChars = false
            configuration.stripAccents = false
            configuration.lowercase = false
        }
        guard let preTokenizer = file.preTokenizer, preTokenizer.type == "BertPreTokenizer" else {
            throw TokenizerError.unsupported(
                path: path, reason: "pre-tokenizer \(file.preTokenizer?.type ?? "null"), expected BertPreTokenizer")
        }
        if let lowercaseOverride { configuration.lowercase = lowercaseOverride }
        configuration.unknownToken = file.model.unkToken ?? configuration.unknownToken
        configuration.continuingSubwordPrefix = file.model.continuingSubwordPrefix ?? "##"
        configuration.maxInputCharsPerWord = file.model.maxInputCharsPerWord ?? 100
        if let pad = file.padding?.padToken { configuration.padToken = pad }
        if let processor = file.postProcessor {
            if let cls = processor.cls?.token { configuration.clsToken = cls }
            if let sep = processor.sep?.token { configuration.sepToken = sep }
            // TemplateProcessing: "[CLS] $A [SEP]" names CLS first and SEP last.
            let specials = (processor.single ?? []).compactMap { $0.special?.id }
            if specials.count >= 2, let first = specials.first, let last = specials.last {
                configuration.clsToken = first
                configuration.sepToken = last
            }
        }

        var entries: [(token: String, id: Int32)] = []
        entries.reserveCapacity(file.model.vocab.count)
        for (token, id) in file.model.vocab {
            guard let id32 = Int32(exactly: id), id32 >= 0 else {
                throw TokenizerError.invalidId(source: path, id: id, token: token)
            }
            entries.append((token, id32))
        }
        entries.sort { $0.id < $1.id }
        for (a, b) in zip(entries, entries.dropFirst()) where a.id == b.id {
            throw TokenizerError.duplicateId(source: path, id: Int(a.id), tokens: [a.token, b.token])
        }
        var added: [AddedToken] = []
        for entry in file.addedTokens ?? [] {
            guard let id = Int32(exactly: entry.id), id >= 0 else {
                throw TokenizerError.invalidId(source: path, id: entry.id, token: entry.content)
            }
            // HF's default: special tokens match raw text, others normalized text.
            let special = entry.special ?? false
            added.append(AddedToken(content: entry.content, id: id, normalized: entry.normalized ?? !special))
        }
        return try WordPieceTokenizer(entries: entries, addedTokens: added, configuration: configuration, source: path)
    }
}
