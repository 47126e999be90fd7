import DensekitTestSupport
import DensekitTokenizer
import Foundation

/// Files shipped in Fixtures/: all-MiniLM-L6-v2's vocab.txt and tokenizer.json, and the ids
/// Hugging Face tokenizers produced for it (tokens.jsonl, token_pairs.jsonl).
enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError.missing("Fixtures")
        }
        return directory.appendingPathComponent(name)
    }

    /// Loading the real vocabulary takes a few milliseconds; tests share one instance per format.
    static let fromJSON: Result<WordPieceTokenizer, Error> = Result {
        try WordPieceTokenizer.load(tokenizerJSON: try url("tokenizer.json"))
    }
    static let fromVocab: Result<WordPieceTokenizer, Error> = Result {
        try WordPieceTokenizer.load(vocabFile: try url("vocab.txt"))
    }

    static func jsonLines(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: try url(name), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw FixtureError.missing("object in \(name)")
            }
            return object
        }
    }

    /// A small vocabulary where behaviour is obvious: specials at ids 0...4, then `words`.
    static func tinyTokenizer(
        _ words: [String], configuration: TokenizerConfiguration = .uncased
    ) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(
            vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words, configuration: configuration)
    }

    /// A fresh directory under the temporary directory, for files a test writes.
    static func temporaryDirectory() throws -> URL {
        try TestScratch.folder("tokenizer")
    }
}

enum FixtureError: Error {
    case missing(String)
}

extension Array where Element == Any {
    var int32s: [Int32] { compactMap { ($0 as? NSNumber)?.int32Value } }
}
