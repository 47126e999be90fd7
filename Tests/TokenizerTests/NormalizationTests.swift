import DensekitTokenizer
import Testing

/// BertNormalizer + BertPreTokenizer + WordPiece behaviour, on vocabularies small enough that the
/// expected pieces are evident.
@Suite struct NormalizationTests {
    @Test func accentsAreStrippedAndTextLowercased() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["cafe", "naive", "angstrom"])
        #expect(tokenizer.tokenize("Café NAÏVE Ångström") == ["cafe", "naive", "angstrom"])
        // The decomposed spelling gives the same result as the precomposed one.
        #expect(tokenizer.tokenize("Cafe\u{301}") == ["cafe"])
    }

    @Test func casedConfigurationKeepsCaseAndAccents() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["Café", "cafe"], configuration: .cased)
        #expect(tokenizer.tokenize("Café") == ["Café"])
        #expect(tokenizer.tokenize("CAFE") == ["[UNK]"])
    }

    @Test func lowercaseWithoutStrippingKeepsAccents() throws {
        let configuration = TokenizerConfiguration(lowercase: true, stripAccents: false)
        let tokenizer = try Fixtures.tinyTokenizer(["café", "cafe"], configuration: configuration)
        #expect(tokenizer.tokenize("CAFÉ") == ["café"])
    }

    @Test func lowercasingIsPerScalarWithFullMappings() throws {
        // Σ always becomes σ (no final ς); İ becomes i + U+0307 unless accents are stripped.
        let tokenizer = try Fixtures.tinyTokenizer(["σασ", "i", "i\u{307}"], configuration: .init(stripAccents: false))
        #expect(tokenizer.tokenize("ΣΑΣ") == ["σασ"])
        #expect(tokenizer.tokenize("İ") == ["i\u{307}"])
        #expect(try Fixtures.tinyTokenizer(["i"]).tokenize("İ") == ["i"])
    }

    @Test func punctuationIsSplitIntoSingleCharacters() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["hello", "world", ",", "!", "$", "-", "’"])
        #expect(tokenizer.tokenize("hello,world!") == ["hello", ",", "world", "!"])
        // ASCII symbols count as punctuation for BERT, and so does every Unicode P* character.
        #expect(tokenizer.tokenize("$hello-world’") == ["$", "hello", "-", "world", "’"])
        #expect(tokenizer.tokenize("!!") == ["!", "!"])
    }

    @Test func cjkIdeographsBecomeWordsButKanaDoesNot() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["中", "文", "ひ", "##ら"])
        #expect(tokenizer.tokenize("中文") == ["中", "文"])
        #expect(tokenizer.tokenize("ひら") == ["ひ", "##ら"])
        let off = TokenizerConfiguration(tokenizeChineseChars: false)
        #expect(try Fixtures.tinyTokenizer(["中", "##文"], configuration: off).tokenize("中文") == ["中", "##文"])
    }

    @Test func controlCharactersAreDroppedAndWhitespaceSplits() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["hello", "world"])
        // NUL, zero width space (Cf), soft hyphen (Cf), U+FFFD and DEL vanish inside the word.
        #expect(tokenizer.tokenize("hel\u{0}l\u{200B}o\u{AD}\u{FFFD}\u{7F}") == ["hello"])
        #expect(tokenizer.tokenize("hello\tworld\r\nhello\u{3000}world\u{A0}") == ["hello", "world", "hello", "world"])
        #expect(tokenizer.tokenize(" \n\t ").isEmpty)
        #expect(tokenizer.encode("", maxLength: 16).ids == [2, 3])
    }

    @Test func wordPieceIsGreedyLongestMatchFirst() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["un", "unbe", "##liev", "##able", "##lie", "##v"])
        #expect(tokenizer.tokenize("unbelievable") == ["unbe", "##liev", "##able"])
        // One unspellable stretch makes the whole word unknown, not just that stretch.
        #expect(tokenizer.tokenize("unbelievablex") == ["[UNK]"])
    }

    @Test func wordsOverOneHundredScalarsAreUnknown() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["a", "##a", "é", "##é"])
        #expect(tokenizer.tokenize(String(repeating: "a", count: 100)).count == 100)
        #expect(tokenizer.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
        // The limit counts scalars, not bytes.
        let accented = TokenizerConfiguration(lowercase: false)
        let cased = try Fixtures.tinyTokenizer(["é", "##é"], configuration: accented)
        #expect(cased.tokenize(String(repeating: "é", count: 100)).count == 100)
        #expect(cased.tokenize(String(repeating: "é", count: 101)) == ["[UNK]"])
    }

    @Test func specialTokensInTheTextAreMatchedBeforeNormalizing() throws {
        let tokenizer = try Fixtures.tinyTokenizer(["a", "b", "[", "]", "mask"])
        #expect(tokenizer.encode("a [MASK] b[SEP]", maxLength: 16).ids == [2, 5, 4, 6, 3, 3])
        // Matching is case-sensitive: lowercase text is ordinary punctuation and words.
        #expect(tokenizer.tokenize("[mask]") == ["[", "mask", "]"])
    }

    @Test func huggingFaceUnicodeTablesArePinned() throws {
        let tokenizer = try Fixtures.fromJSON.get()
        // U+2E50 is punctuation since Unicode 13 but not in HF's 8.0 tables: no split.
        #expect(tokenizer.tokenize("a\u{2E50}b") == ["[UNK]"])
        // U+0890 is a format control since Unicode 14; HF keeps it.
        #expect(tokenizer.tokenize("x\u{890}y") == ["[UNK]"])
        // U+166D was punctuation in 8.0 (a symbol today): HF splits there.
        #expect(tokenizer.tokenize("a\u{166D}b") == ["a", "[UNK]", "b"])
    }

    @Test func realVocabularyExamples() throws {
        let tokenizer = try Fixtures.fromJSON.get()
        #expect(tokenizer.tokenize("Ångström CAFÉ naïve") == ["ang", "##strom", "cafe", "naive"])
        #expect(tokenizer.tokenize("中文字 ひらがな") == ["中", "文", "[UNK]", "ひ", "##ら", "##か", "##な"])
        #expect(tokenizer.encode("Hello, World!", maxLength: 256).ids == [101, 7592, 1010, 2088, 999, 102])
    }
}
