import Foundation

/// The Extreme Classification Repository's raw-text layout, as DEXML and NGAME read it:
///
/// - `trn_X.txt` / `tst_X.txt`: one document text per line; the document on line n has id
///   `n - 1` (its row). A blank line is a document with an empty text.
/// - `trn_X_Y.txt` / `tst_X_Y.txt` (beside the texts: `_X.txt` becomes `_X_Y.txt`): the label
///   matrix in the repository's sparse text format, a header `rows columns`, then one line per
///   document of space-separated `label:value` pairs (0-based label column; a value above 0
///   makes the label positive, as pyxclib's readers keep only stored non-zeros).
/// - `Y.txt`: one label text per line; the label on line n is named `n - 1` (its column).
///
/// Rows are positional, so every line counts, blank or not (unlike the other readers).
public enum ECRFormat {
    /// The label matrix beside a texts file (`trn_X.txt` -> `trn_X_Y.txt`); nil for a name
    /// that does not end in `_X.txt`.
    public static func matrixPath(forTexts path: String) -> String? {
        guard path.hasSuffix("_X.txt") else { return nil }
        return String(path.dropLast("_X.txt".count)) + "_X_Y.txt"
    }

    /// The label set of `Y.txt`: label `i` is line `i + 1`'s text.
    /// - Throws: `CorpusError` for an unreadable file or one with no line.
    public static func labels(path: String) throws(CorpusError) -> LabelSet {
        let lines = try LineReader(path: path)
        var texts: [String] = []
        while let line = try lines.nextLine() { texts.append(line.text) }
        guard !texts.isEmpty else { throw CorpusError(path: path, line: 0, reason: "no label") }
        return LabelSet(uniqueNames: texts.indices.map(String.init), texts: texts)
    }

    /// The documents of a texts file and its label matrix, ids their rows.
    ///
    /// - Parameters:
    ///   - labels: the label set the columns index (checked: the header's column count must be
    ///     its size); nil accepts any column.
    ///   - policy: with `.skip`, a document whose matrix line is bad (a malformed pair, a
    ///     column out of range, no positive label) is skipped and counted instead of stopping.
    /// - Throws: `CorpusError` with the file and line: a bad header, a row count that differs
    ///   from the texts' line count, and (with `.stop`) a bad matrix line.
    public static func documents(texts: String, labels: LabelSet?, policy: BadLinePolicy = .stop) throws(CorpusError) -> (documents: [LabeledDocument], report: ReadReport) {
        guard let matrix = matrixPath(forTexts: texts) else {
            throw CorpusError(path: texts, line: 0, reason: "an ECR texts file is named *_X.txt, with its label matrix *_X_Y.txt beside it")
        }
        let matrixLines = try LineReader(path: matrix), textLines = try LineReader(path: texts)
        guard let header = try matrixLines.nextLine() else { throw CorpusError(path: matrix, line: 1, reason: "empty file: expected a header 'rows columns'") }
        let fields = header.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 2, let rows = Int(fields[0]), let columns = Int(fields[1]), rows >= 0, columns > 0 else {
            throw CorpusError(path: matrix, line: 1, reason: "expected a header 'rows columns', found '\(header.text)'")
        }
        if let labels, labels.count != columns {
            throw CorpusError(path: matrix, line: 1, reason: "the header says \(columns) label columns, the label file has \(labels.count) labels")
        }
        var documents: [LabeledDocument] = []
        var report = ReadReport()
        for row in 0..<rows {
            guard let line = try matrixLines.nextLine() else {
                throw CorpusError(path: matrix, line: row + 2, reason: "the header says \(rows) rows, the file ends after \(row)")
            }
            guard let text = try textLines.nextLine() else {
                throw CorpusError(path: texts, line: row + 1, reason: "\(matrix) has \(rows) rows, this file ends after \(row) lines")
            }
            do throws(LineProblem) {
                documents.append(LabeledDocument(id: String(row), text: text.text, labels: try positives(line.text, columns: columns)))
                report.records += 1
                if text.text.isEmpty { report.emptyTexts += 1 }
            } catch {
                let corpusError = CorpusError(path: matrix, line: line.number, reason: "document \(row): " + error.reason)
                guard policy == .skip else { throw corpusError }
                report.noteSkipped(corpusError)
            }
        }
        if let extra = try matrixLines.nextLine(), !PolicedLines.isBlank(extra.text) {
            throw CorpusError(path: matrix, line: extra.number, reason: "the header says \(rows) rows, the file has more")
        }
        if let extra = try textLines.nextLine() {
            throw CorpusError(path: texts, line: extra.number, reason: "\(matrix) has \(rows) rows, this file has more lines")
        }
        return (documents, report)
    }

    /// The positive label columns of one matrix line, as label names (their columns).
    static func positives(_ line: String, columns: Int) throws(LineProblem) -> [String] {
        var seen = Set<Int>(), labels: [String] = []
        for pair in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
            guard let colon = pair.firstIndex(of: ":"), let column = Int(pair[..<colon]), let value = Double(pair[pair.index(after: colon)...]) else {
                throw LineProblem("expected label:value pairs, found '\(pair)'")
            }
            guard (0..<columns).contains(column) else { throw LineProblem("label column \(column) is outside 0..<\(columns)") }
            if value > 0, seen.insert(column).inserted { labels.append(String(column)) }
        }
        guard !labels.isEmpty else { throw LineProblem("no positive label") }
        return labels
    }
}

/// How an XMC dataset is laid out (`--format` of the XMC commands).
public enum XMCDataFormat: String, Sendable, CaseIterable {
    /// Documents as JSON lines `{"id", "text", "labels": [...]}`, labels as `label<TAB>text` lines.
    case jsonl
    /// The Extreme Classification Repository's raw text: `*_X.txt` with `*_X_Y.txt`, and `Y.txt`.
    case ecr

    /// The label set of `path`.
    public func labels(path: String) throws(CorpusError) -> LabelSet {
        switch self {
        case .jsonl: try LabelSet(path: path)
        case .ecr: try ECRFormat.labels(path: path)
        }
    }

    /// The labelled documents of `path`, checked against `labels` (nil: any label).
    public func documents(path: String, labels: LabelSet?, policy: BadLinePolicy = .stop) throws(CorpusError) -> (documents: [LabeledDocument], report: ReadReport) {
        switch self {
        case .jsonl: try LabeledDocumentReader.readAll(path: path, labels: labels, policy: policy)
        case .ecr: try ECRFormat.documents(texts: path, labels: labels, policy: policy)
        }
    }

    /// The documents' ids and texts alone (their labels, if any, are not read).
    public func texts(path: String) throws(CorpusError) -> [(id: String, text: String)] {
        var documents: [(id: String, text: String)] = []
        switch self {
        case .jsonl:
            let reader = try PassageReader(path: path, format: .plainJSONL)
            while let (_, document) = try reader.nextRecord() { documents.append((document.id, document.text)) }
        case .ecr:
            let lines = try LineReader(path: path)
            while let line = try lines.nextLine() { documents.append((String(documents.count), line.text)) }
        }
        return documents
    }
}
