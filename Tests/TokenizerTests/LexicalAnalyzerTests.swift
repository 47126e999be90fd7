import DensekitTokenizer
import Testing

/// BM25's analyzer gives the terms of bm25s's tokenizer (`re.findall(r"(?u)\b\w\w+\b",
/// text.lower())` minus its English stop words); expected lists are Python 3.11's output.
@Suite struct LexicalAnalyzerTests {
    @Test(arguments: [
        ("GNU Emacs is THE extensible, self-documenting text editor.", ["gnu", "emacs", "extensible", "self", "documenting", "text", "editor"]),
        ("C++ and foo_bar-baz 3D x y 42 ½ Ünïcödé façade", ["foo_bar", "baz", "3d", "42", "ünïcödé", "façade"]),
        ("日本語 テキスト über-cool a1 _x", ["日本語", "テキスト", "über", "cool", "a1", "_x"]),
        // Combining marks are not word characters; İ lowercases to i + a combining dot.
        ("Combining e\u{0301} mark, İstanbul ǅ", ["combining", "mark", "stanbul"]),
        ("  ", []),
        ("It is not. No, THEIR!", []),
    ])
    func termsAreBM25sTerms(text: String, expected: [String]) {
        #expect(LexicalAnalyzer().terms(text) == expected)
    }

    @Test func stopWordsCanBeKept() {
        #expect(LexicalAnalyzer(removesStopWords: false).terms("It is the editor") == ["it", "is", "the", "editor"])
        #expect(LexicalAnalyzer.englishStopWords.count == 33)
    }

    /// Snowball's published examples: Porter (1980) and English (Porter2) agree on plurals and
    /// -ing, and differ on -ly ("fairly": Porter keeps "fairli", Porter2 strips to "fair").
    /// Stemming follows stop-word removal and the two-character rule, as in Lucene and bm25s.
    @Test func stemmersStemAfterStopWords() {
        let text = "The caresses, ponies and connections were running fairly"
        #expect(LexicalAnalyzer(stemmer: .porter).terms(text) == ["caress", "poni", "connect", "were", "run", "fairli"])
        #expect(LexicalAnalyzer(stemmer: .english).terms(text) == ["caress", "poni", "connect", "were", "run", "fair"])
        #expect(LexicalAnalyzer(stemmer: .none).terms(text) == ["caresses", "ponies", "connections", "were", "running", "fairly"])
        // Non-ASCII terms go through the same stemmer.
        #expect(LexicalAnalyzer(stemmer: .english).terms("Überraschungen cafés") == ["überraschungen", "café"])
    }
}
