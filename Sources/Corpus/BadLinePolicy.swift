/// What a reader does with a line it cannot parse.
public enum BadLinePolicy: Sendable, Equatable {
    /// Throw the line's `CorpusError` (the default: a bad line usually means a wrong file or format).
    case stop
    /// Skip the line, count it in the reader's `ReadReport` and keep the first few errors.
    case skip
}

/// What a reader met besides its records: skipped bad lines, blank lines, empty texts.
public struct ReadReport: Sendable, Equatable {
    /// How many skipped-line errors `firstErrors` keeps; the rest are only counted.
    public static let keptErrorLimit = 10

    /// Records (or judgments) returned so far.
    public internal(set) var records = 0
    /// Bad lines skipped under `BadLinePolicy.skip`.
    public internal(set) var skippedLines = 0
    /// The first `keptErrorLimit` skipped lines' errors, in file order.
    public internal(set) var firstErrors: [CorpusError] = []
    /// Empty or whitespace-only lines, ignored in every format (they carry no record).
    public internal(set) var blankLines = 0
    /// Records whose text is empty: allowed (an empty passage is still a passage), but worth a warning.
    public internal(set) var emptyTexts = 0

    /// An empty report.
    public init() {}

    mutating func noteSkipped(_ error: CorpusError) {
        skippedLines += 1
        if firstErrors.count < Self.keptErrorLimit { firstErrors.append(error) }
    }

    /// One line for a log, e.g. "skipped 3 bad lines (first: file:12: invalid JSON)"; nil when there is nothing to say.
    public var warning: String? {
        var parts: [String] = []
        if skippedLines > 0 {
            let first = firstErrors.first.map { " (first: \($0))" } ?? ""
            parts.append("skipped \(skippedLines) bad line\(skippedLines == 1 ? "" : "s")\(first)")
        }
        if emptyTexts > 0 { parts.append("\(emptyTexts) record\(emptyTexts == 1 ? " has" : "s have") an empty text") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
