import DensekitTestSupport
import DensekitTokenizer
import Foundation
import Testing

/// tokenizer.json and vocab.txt damaged: loading fails with a `TokenizerError` or loads, never
/// crashes. The mutations favour the file's head (normalizer, truncation, model settings) and
/// tail, where the structure is; the middle is vocabulary.
@Suite struct MalformedTokenizerTests {
    @Test func tokenizerJSONMutantsDoNotCrash() throws {
        let valid = Array(try Data(contentsOf: try Fixtures.url("tokenizer.json")))
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokenizer.json")
        var mutator = InputMutator(seed: 43)
        // Each mutant parses 466 KB of JSON: a fifth of the other loops' count.
        let iterations = max(20, InputMutator.iterations / 5)
        var rejected = 0
        for iteration in 0..<iterations {
            let focus = iteration.isMultiple(of: 2) ? 0..<4096 : (valid.count - 4096)..<valid.count
            try Data(mutator.mutate(valid, focus: focus)).write(to: file)
            do { _ = try WordPieceTokenizer.load(tokenizerJSON: file) } catch {
                rejected += 1
                #expect(error is TokenizerError && "\(error)".contains("tokenizer.json"), "mutant \(iteration): \(error)")
            }
        }
        #expect(rejected > 0)
    }

    @Test func byteOrderMarkInVocabularyIsSkipped() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data([0xEF, 0xBB, 0xBF] + Array("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n".utf8)).write(to: directory.appendingPathComponent("vocab.txt"))
        let tokenizer = try WordPieceTokenizer.load(modelDirectory: directory)
        #expect(tokenizer.padId == 0 && tokenizer.tokenize("hello") == ["hello"])
    }
}

