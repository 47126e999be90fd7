import DensekitTokenizer
import Testing

/// Truncation, with one token per word so that lengths are easy to count by hand.
@Suite struct TruncationTests {
    static let words = (0..<30).map { "w\($0)" }

    static func tokenizer() throws -> WordPieceTokenizer { try Fixtures.tinyTokenizer(words) }

    /// "w0 w1 ... w(n-1)" and the ids of its first `keep` words.
    static func text(_ n: Int, from start: Int = 0) -> String {
        (start..<start + n).map { "w\($0)" }.joined(separator: " ")
    }
    static func ids(_ keep: Int, from start: Int = 0) -> [Int32] { (start..<start + keep).map { Int32($0 + 5) } }

    @Test func singleSequenceKeepsSepLast() throws {
        let encoding = try Self.tokenizer().encode(Self.text(20), maxLength: 8)
        #expect(encoding.ids == [2] + Self.ids(6) + [3])
        #expect(encoding.typeIds == [Int32](repeating: 0, count: 8))
        #expect(try Self.tokenizer().encode(Self.text(3), maxLength: 8).ids == [2] + Self.ids(3) + [3])
    }

    @Test func tinyMaxLengthStillHasSpecialTokens() throws {
        #expect(try Self.tokenizer().encode(Self.text(5), maxLength: 2).ids == [2, 3])
        #expect(try Self.tokenizer().encode(Self.text(5), maxLength: 0).ids == [2, 3])
        #expect(try Self.tokenizer().encodePair(Self.text(5), Self.text(5), maxLength: 3).ids == [2, 3, 3])
        #expect(try Self.tokenizer().encode(Self.text(5), maxLength: .min).ids == [2, 3])
        #expect(try Self.tokenizer().encodePair(Self.text(1), Self.text(1), maxLength: .min).ids == [2, 3, 3])
        #expect(try Self.tokenizer().encode(Self.text(5), maxLength: .max).ids == [2] + Self.ids(5) + [3])
    }

    @Test func pairWithinBudgetIsUntouched() throws {
        let encoding = try Self.tokenizer().encodePair(Self.text(2), Self.text(3, from: 10), maxLength: 10)
        #expect(encoding.ids == [2] + Self.ids(2) + [3] + Self.ids(3, from: 10) + [3])
        #expect(encoding.typeIds == [0, 0, 0, 0, 1, 1, 1, 1])
    }

    @Test func shortPlusLongTruncatesOnlyTheLongOne() throws {
        // Budget 10 - 3 = 7: the short side keeps its 2, the long side gets 5.
        let encoding = try Self.tokenizer().encodePair(Self.text(2), Self.text(20, from: 10), maxLength: 10)
        #expect(encoding.ids == [2] + Self.ids(2) + [3] + Self.ids(5, from: 10) + [3])
        #expect(encoding.typeIds == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        let reversed = try Self.tokenizer().encodePair(Self.text(20, from: 10), Self.text(2), maxLength: 10)
        #expect(reversed.ids == [2] + Self.ids(5, from: 10) + [3] + Self.ids(2) + [3])
    }

    @Test func bothLongWithOddBudgetGivesTheExtraTokenToTheLonger() throws {
        // Budget 7, both over half of it: 7 / 2 = 3 each, and the odd token to the longer side.
        let longerSecond = try Self.tokenizer().encodePair(Self.text(8), Self.text(10, from: 10), maxLength: 10)
        #expect(longerSecond.ids == [2] + Self.ids(3) + [3] + Self.ids(4, from: 10) + [3])
        let longerFirst = try Self.tokenizer().encodePair(Self.text(10), Self.text(8, from: 10), maxLength: 10)
        #expect(longerFirst.ids == [2] + Self.ids(4) + [3] + Self.ids(3, from: 10) + [3])
        #expect(longerFirst.typeIds == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
        // Equal lengths: no swap, so the second segment gets the odd token.
        let equal = try Self.tokenizer().encodePair(Self.text(9), Self.text(9, from: 10), maxLength: 10)
        #expect(equal.ids == [2] + Self.ids(3) + [3] + Self.ids(4, from: 10) + [3])
    }

    @Test func bothLongWithEvenBudgetSplitsEvenly() throws {
        // Budget 11 - 3 = 8, both sides over half of it: 4 + 4.
        let encoding = try Self.tokenizer().encodePair(Self.text(12), Self.text(15, from: 12), maxLength: 11)
        #expect(encoding.ids == [2] + Self.ids(4) + [3] + Self.ids(4, from: 12) + [3])
    }

    @Test func shorterSideAboveHalfIsCutToHalf() throws {
        // Budget 7; 5 and 6 tokens: the shorter (5) exceeds 7 - 5 = 2 room, so 3 + 4.
        let encoding = try Self.tokenizer().encodePair(Self.text(5), Self.text(6, from: 10), maxLength: 10)
        #expect(encoding.ids == [2] + Self.ids(3) + [3] + Self.ids(4, from: 10) + [3])
    }
}
