import DensekitTokenizer
import Foundation
import Testing

/// Every reference line must come out exactly as Hugging Face tokenizers encoded it
/// (all-MiniLM-L6-v2, max length 256), whichever file the tokenizer was loaded from.
@Suite struct ParityTests {
    static let sources = ["tokenizer.json", "vocab.txt"]

    static func tokenizer(_ source: String) throws -> WordPieceTokenizer {
        try (source == "vocab.txt" ? Fixtures.fromVocab : Fixtures.fromJSON).get()
    }

    @Test(arguments: sources)
    func singleSequences(source: String) throws {
        let tokenizer = try Self.tokenizer(source)
        let lines = try Fixtures.jsonLines("tokens.jsonl")
        #expect(lines.count == 818)
        var failures = 0
        for (index, line) in lines.enumerated() {
            let text = try #require(line["text"] as? String)
            let expected = try #require(line["input_ids"] as? [Any]).int32s
            let got = tokenizer.encode(text, maxLength: 256)
            if got.ids != expected || got.typeIds != [Int32](repeating: 0, count: expected.count) {
                failures += 1
                Issue.record("line \(index + 1): \(text.debugDescription)\n expected \(expected)\n got      \(got.ids)")
            }
        }
        #expect(failures == 0)
    }

    @Test(arguments: sources)
    func pairs(source: String) throws {
        let tokenizer = try Self.tokenizer(source)
        let lines = try Fixtures.jsonLines("token_pairs.jsonl")
        #expect(lines.count == 100)
        var failures = 0
        for (index, line) in lines.enumerated() {
            let query = try #require(line["query"] as? String)
            let passage = try #require(line["passage"] as? String)
            let ids = try #require(line["input_ids"] as? [Any]).int32s
            let typeIds = try #require(line["token_type_ids"] as? [Any]).int32s
            let got = tokenizer.encodePair(query, passage, maxLength: 256)
            if got.ids != ids || got.typeIds != typeIds {
                failures += 1
                Issue.record(
                    """
                    line \(index + 1): \(query.debugDescription) / \(passage.debugDescription)
                     expected \(ids)
                        types \(typeIds)
                     got      \(got.ids)
                        types \(got.typeIds)
                    """)
            }
        }
        #expect(failures == 0)
    }

    @Test func batchEqualsOneByOne() throws {
        let tokenizer = try Self.tokenizer("tokenizer.json")
        let texts = try Fixtures.jsonLines("tokens.jsonl").compactMap { $0["text"] as? String }
        let batch = tokenizer.encodeBatch(texts, maxLength: 128)
        #expect(batch == texts.map { tokenizer.encode($0, maxLength: 128) })
    }
}
