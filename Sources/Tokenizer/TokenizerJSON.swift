import Foundation

// Decodable views of Hugging Face's tokenizer.json and transformers' tokenizer_config.json,
// limited to the fields that define BERT WordPiece tokenization.

/// The parts of a Hugging Face tokenizer.json that define BERT WordPiece tokenization.
struct TokenizerJSON: Decodable {
    struct AddedTokenEntry: Decodable {
        var id: Int
        var content: String
        var special: Bool?
        var normalized: Bool?
    }

    struct Normalizer: Decodable {
        var type: String
        var cleanText: Bool?
        var handleChineseChars: Bool?
        var stripAccents: Bool?
        var lowercase: Bool?

        enum CodingKeys: String, CodingKey {
            case type, lowercase
            case cleanText = "clean_text"
            case handleChineseChars = "handle_chinese_chars"
            case stripAccents = "strip_accents"
        }
    }

    struct TypeOnly: Decodable {
        var type: String
    }

    struct PostProcessor: Decodable {
        /// `["[SEP]", 102]` in BertProcessing.
        struct TokenAndId: Decodable {
            var token: String
            init(from decoder: Decoder) throws {
                var container = try decoder.unkeyedContainer()
                token = try container.decode(String.self)
            }
        }

        /// One element of a TemplateProcessing template.
        struct TemplatePiece: Decodable {
            struct Special: Decodable { var id: String }
            var special: Special?
            enum CodingKeys: String, CodingKey { case special = "SpecialToken" }
        }

        var type: String
        var cls: TokenAndId?
        var sep: TokenAndId?
        var single: [TemplatePiece]?
    }

    struct Model: Decodable {
        var type: String?
        var vocab: [String: Int]
        var unkToken: String?
        var continuingSubwordPrefix: String?
        var maxInputCharsPerWord: Int?

        enum CodingKeys: String, CodingKey {
            case type, vocab
            case unkToken = "unk_token"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case maxInputCharsPerWord = "max_input_chars_per_word"
        }
    }

    struct Padding: Decodable {
        var padToken: String?
        enum CodingKeys: String, CodingKey { case padToken = "pad_token" }
    }

    var addedTokens: [AddedTokenEntry]?
    var normalizer: Normalizer?
    var preTokenizer: TypeOnly?
    var postProcessor: PostProcessor?
    var model: Model
    var padding: Padding?

    enum CodingKeys: String, CodingKey {
        case normalizer, model, padding
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }
}

/// transformers' tokenizer_config.json, read leniently: only the BERT flags and token names.
struct TokenizerConfigJSON {
    var doLowerCase: Bool?
    var stripAccents: Bool?
    var tokenizeChineseChars: Bool?
    var tokens: [String: String] = [:]

    init(url: URL) throws {
        let data = try TokenizerFiles.read(url)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TokenizerError.invalidJSON(path: url.path, reason: error.localizedDescription)
        }
        guard let dictionary = object as? [String: Any] else {
            throw TokenizerError.invalidJSON(path: url.path, reason: "top level is not an object")
        }
        doLowerCase = dictionary["do_lower_case"] as? Bool
        stripAccents = dictionary["strip_accents"] as? Bool
        tokenizeChineseChars = dictionary["tokenize_chinese_chars"] as? Bool
        for key in ["unk_token", "cls_token", "sep_token", "pad_token", "mask_token"] {
            // Newer files store special tokens as AddedToken objects with a "content" field.
            if let token = dictionary[key] as? String {
                tokens[key] = token
            } else if let object = dictionary[key] as? [String: Any], let token = object["content"] as? String {
                tokens[key] = token
            }
        }
    }
}
