import Foundation

/// A document of an extreme multi-label classification set: its text and its labels.
public struct LabeledDocument: Sendable, Hashable {
    public let id: String
    public let text: String
    /// The labels as listed (none repeated).
    public let labels: [String]

    public init(id: String, text: String, labels: [String]) {
        self.id = id
        self.text = text
        self.labels = labels
    }
}

/// The label set of an XMC dataset: `label<TAB>text` lines (the text is what the encoder reads
/// for the label, e.g. a debtag's description), in file order.
public struct LabelSet: Sendable {
    public let labels: [String]
    public let texts: [String]
    private let indices: [String: Int]

    /// Reads `path`.
    /// - Throws: `CorpusError` with the line for a line without a tab, an empty label, or a
    ///   label listed twice; and for a file with no label.
    public init(path: String) throws(CorpusError) {
        let lines = try PolicedLines(path: path, policy: .stop)
        var labels: [String] = [], texts: [String] = [], indices: [String: Int] = [:], firstLine: [String: Int] = [:]
        while let (line, entry) = try lines.next({ (line) throws(LineProblem) -> (String, String)? in
            guard let tab = line.text.firstIndex(of: "\t") else { throw LineProblem("expected label<TAB>text, found no tab") }
            let label = String(line.text[..<tab]).trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw LineProblem("empty label") }
            return (label, String(line.text[line.text.index(after: tab)...]))
        }) {
            if let first = firstLine.updateValue(line, forKey: entry.0) {
                throw CorpusError(path: path, line: line, reason: "label '\(entry.0)' listed twice (first at line \(first))")
            }
            indices[entry.0] = labels.count
            labels.append(entry.0)
            texts.append(entry.1)
        }
        guard !labels.isEmpty else { throw CorpusError(path: path, line: 0, reason: "no label") }
        self.labels = labels
        self.texts = texts
        self.indices = indices
    }

    /// A set of `names` (none repeated) and their texts, in order.
    init(uniqueNames names: [String], texts: [String]) {
        labels = names
        self.texts = texts
        indices = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }

    public var count: Int { labels.count }

    /// The position of `label` in the file; nil when the set does not have it.
    public func index(of label: String) -> Int? { indices[label] }

    /// What an encoder reads for label `index`.
    public func text(_ index: Int, as kind: LabelTextKind) -> String {
        switch kind {
        case .nameAndText: labels[index] + ": " + texts[index]
        case .text: texts[index]
        case .name: labels[index]
        }
    }
}

/// What the encoder reads for a label (training and prediction must agree).
public enum LabelTextKind: String, Codable, Sendable, CaseIterable {
    /// `name: text` (debtags' `devel::library: Libraries.`): the name carries the facet.
    case nameAndText = "name-and-text"
    /// The label file's text alone.
    case text
    /// The label's name alone.
    case name
}

/// Reads XMC documents from JSON lines `{"id": ..., "text": ..., "labels": ["...", ...]}` (as
/// debtags-xmc), checking them against a `LabelSet`.
///
/// Errors name the file and line: invalid JSON, a missing or mistyped field, an empty label
/// list, a label the set does not have, an id read twice. With `BadLinePolicy.skip` such lines
/// are skipped and counted in `report` instead. A label listed twice in one document counts once.
public final class LabeledDocumentReader {
    public let path: String
    private let source: PolicedLines
    private let labels: LabelSet?
    private let decoder = JSONDecoder()
    private var firstLineOfId: [String: Int] = [:]

    /// Opens `path`; `labels` nil accepts any label (prediction inputs, whose labels are unused).
    public init(path: String, labels: LabelSet?, policy: BadLinePolicy = .stop) throws(CorpusError) {
        self.path = path
        self.labels = labels
        source = try PolicedLines(path: path, policy: policy)
    }

    public var report: ReadReport { source.report }

    /// The next document and its line number; nil at the end.
    public func next() throws(CorpusError) -> (line: Int, document: LabeledDocument)? {
        let labels = labels, decoder = decoder, path = path
        guard let (line, document) = try source.next({ (line) throws(LineProblem) -> LabeledDocument? in
            let object = try JSONLine(line.text, decoder: decoder)
            let id = try object.id("id")
            let text = try object.string("text", optional: false) ?? ""
            var listed: [String] = []
            for label in try object.strings("labels") where !listed.contains(label) { listed.append(label) }
            guard !listed.isEmpty else { throw LineProblem("document '\(id)' has no label") }
            if let labels, let unknown = listed.first(where: { labels.index(of: $0) == nil }) {
                throw LineProblem("label '\(unknown)' is not in the label set")
            }
            // Through self, not a local copy: copying the dictionary per line made reading quadratic.
            if let first = self.firstLineOfId.updateValue(line.number, forKey: id) {
                self.firstLineOfId[id] = first
                throw LineProblem("duplicate document id '\(id)' (first at line \(first) of \(path))")
            }
            return LabeledDocument(id: id, text: text, labels: listed)
        }) else { return nil }
        source.report.records += 1
        return (line, document)
    }

    /// Every document of `path`.
    public static func readAll(path: String, labels: LabelSet?, policy: BadLinePolicy = .stop) throws(CorpusError) -> (documents: [LabeledDocument], report: ReadReport) {
        let reader = try LabeledDocumentReader(path: path, labels: labels, policy: policy)
        var documents: [LabeledDocument] = []
        while let (_, document) = try reader.next() { documents.append(document) }
        return (documents, reader.report)
    }
}
