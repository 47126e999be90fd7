import DensekitTokenizer
import Foundation
import Testing

/// File formats and the errors a broken model directory produces.
@Suite struct LoadingTests {
    @Test func tokenizerJSONAndVocabTxtAgree() throws {
        let json = try Fixtures.fromJSON.get()
        let vocab = try Fixtures.fromVocab.get()
        #expect(json.vocabularySize == 30522)
        #expect(vocab.vocabularySize == 30522)
        #expect([json.padId, json.unkId, json.clsId, json.sepId] == [0, 100, 101, 102])
        #expect([vocab.padId, vocab.unkId, vocab.clsId, vocab.sepId] == [0, 100, 101, 102])
        #expect(json.configuration == vocab.configuration)
        let texts = try Fixtures.jsonLines("tokens.jsonl").compactMap { $0["text"] as? String }
        for text in texts {
            #expect(json.encode(text, maxLength: 512) == vocab.encode(text, maxLength: 512))
        }
    }

    @Test func modelDirectoryPrefersTokenizerJSONAndFallsBackToVocabTxt() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: try Fixtures.url("vocab.txt"), to: directory.appendingPathComponent("vocab.txt"))
        let uncased = try WordPieceTokenizer.load(modelDirectory: directory)
        #expect(uncased.configuration.lowercase)
        #expect(uncased.tokenize("Café") == ["cafe"])

        try Data(#"{"do_lower_case": false, "tokenize_chinese_chars": true, "strip_accents": null}"#.utf8)
            .write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let cased = try WordPieceTokenizer.load(modelDirectory: directory)
        #expect(!cased.configuration.lowercase)
        #expect(!cased.configuration.stripsAccents)
        let overridden = try WordPieceTokenizer.load(modelDirectory: directory, lowercaseOverride: true)
        #expect(overridden.tokenize("Café") == ["cafe"])

        try FileManager.default.copyItem(
            at: try Fixtures.url("tokenizer.json"), to: directory.appendingPathComponent("tokenizer.json"))
        #expect(try WordPieceTokenizer.load(modelDirectory: directory).configuration.lowercase)
    }

    @Test func missingFileNamesThePath() throws {
        let path = "/nonexistent/densekit/vocab.txt"
        let error = #expect(throws: TokenizerError.self) {
            try WordPieceTokenizer.load(vocabFile: URL(fileURLWithPath: path))
        }
        #expect(error == .fileNotFound(path: path))
        #expect(error?.description.contains(path) == true)
        let directory = URL(fileURLWithPath: "/nonexistent/densekit-model")
        let fromDirectory = #expect(throws: TokenizerError.self) {
            try WordPieceTokenizer.load(modelDirectory: directory)
        }
        #expect(fromDirectory?.description.contains("/nonexistent/densekit-model/vocab.txt") == true)
    }

    @Test func duplicateTokenNamesFileAndLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("vocab.txt")
        try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\nfoo\nbar\nfoo\n".utf8).write(to: file)
        let error = #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(vocabFile: file) }
        #expect(error == .duplicateToken(source: file.path, line: 7, firstLine: 5, token: "foo"))
        #expect(error?.description.hasPrefix("\(file.path):7: duplicate token 'foo'") == true)
    }

    @Test func vocabularyWithoutSpecialTokensIsRefused() throws {
        let error = #expect(throws: TokenizerError.self) {
            try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[SEP]", "hello"], configuration: .uncased)
        }
        #expect(error == .missingSpecialToken(source: "vocabulary", role: "CLS", token: "[CLS]"))
        #expect(error?.description.contains("[CLS]") == true)
        #expect(throws: TokenizerError.emptyVocabulary(source: "vocabulary")) {
            try WordPieceTokenizer(vocabulary: [], configuration: .uncased)
        }
    }

    @Test func invalidUTF8NamesTheLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("vocab.txt")
        try Data([0x61, 0x0A, 0x62, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: file)
        #expect(throws: TokenizerError.invalidUTF8(path: file.path, line: 3)) {
            try WordPieceTokenizer.load(vocabFile: file)
        }
    }

    @Test func vocabLinesFollowHuggingFaceReading() throws {
        // CRLF line ends and trailing spaces are trimmed; the final newline adds no token.
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("vocab.txt")
        try Data("[PAD]\r\n[UNK]\n[CLS] \n[SEP]\nhello\n".utf8).write(to: file)
        let tokenizer = try WordPieceTokenizer.load(vocabFile: file)
        #expect(tokenizer.vocabularySize == 5)
        #expect(tokenizer.encode("Hello", maxLength: 8).ids == [2, 4, 3])
    }

    @Test func brokenJSONNamesThePath() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokenizer.json")
        try Data(#"{"model": {"type": "WordPiece"#.utf8).write(to: file)
        let error = #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(tokenizerJSON: file) }
        #expect(error?.description.hasPrefix(file.path) == true)

        try Data(#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": null}"#.utf8).write(to: file)
        let unsupported = #expect(throws: TokenizerError.self) { try WordPieceTokenizer.load(tokenizerJSON: file) }
        #expect(unsupported?.description.contains("BPE") == true)
    }
}
