import DensekitCorpus
import Foundation
import Testing

/// The Extreme Classification Repository's raw-text layout: rows are ids, columns are labels,
/// and every bad line is named by file and line.
@Suite struct ECRFormatTests {
    /// A dataset folder with Y.txt, trn_X.txt and trn_X_Y.txt.
    func dataset(texts: String, matrix: String, labels: String = "Libraries.\nDevelopment files.\nEditing\n") throws -> (texts: String, labels: String) {
        let folder = try Fixture.folder()
        try labels.write(to: folder.appendingPathComponent("Y.txt"), atomically: true, encoding: .utf8)
        try texts.write(to: folder.appendingPathComponent("trn_X.txt"), atomically: true, encoding: .utf8)
        try matrix.write(to: folder.appendingPathComponent("trn_X_Y.txt"), atomically: true, encoding: .utf8)
        return (folder.appendingPathComponent("trn_X.txt").path, folder.appendingPathComponent("Y.txt").path)
    }

    @Test func documentsAreRowsAndLabelsAreColumns() throws {
        let (texts, labels) = try dataset(texts: "JPEG library\n\nan editor\n", matrix: "3 3\n0:1 1:1.0 0:1\n2:1\n2:1 1:0\n")
        let set = try ECRFormat.labels(path: labels)
        #expect(set.labels == ["0", "1", "2"] && set.texts == ["Libraries.", "Development files.", "Editing"])
        let (documents, report) = try ECRFormat.documents(texts: texts, labels: set)
        // A blank text line is a document with an empty text; a value of 0 is not a label.
        #expect(documents == [LabeledDocument(id: "0", text: "JPEG library", labels: ["0", "1"]),
                              LabeledDocument(id: "1", text: "", labels: ["2"]),
                              LabeledDocument(id: "2", text: "an editor", labels: ["2"])])
        #expect(report.records == 3 && report.emptyTexts == 1)
        #expect(try XMCDataFormat.ecr.texts(path: texts).map(\.id) == ["0", "1", "2"])
        #expect(ECRFormat.matrixPath(forTexts: "/d/tst_X.txt") == "/d/tst_X_Y.txt" && ECRFormat.matrixPath(forTexts: "/d/x.txt") == nil)
    }

    @Test(arguments: [
        ("a\nb\n", "2 3\n0:1\n3:1\n", "trn_X_Y.txt:3: document 1: label column 3 is outside 0..<3"),
        ("a\nb\n", "2 3\n0:1\n\n", "trn_X_Y.txt:3: document 1: no positive label"),
        ("a\nb\n", "2 3\n0:1\n1=1\n", "trn_X_Y.txt:3: document 1: expected label:value pairs, found '1=1'"),
        ("a\nb\n", "2 4\n0:1\n1:1\n", "trn_X_Y.txt:1: the header says 4 label columns, the label file has 3 labels"),
        ("a\nb\n", "two 3\n", "trn_X_Y.txt:1: expected a header 'rows columns', found 'two 3'"),
        ("a\nb\n", "3 3\n0:1\n1:1\n", "trn_X_Y.txt:4: the header says 3 rows, the file ends after 2"),
        ("a\n", "2 3\n0:1\n1:1\n", "trn_X.txt:2: "),
        ("a\nb\nc\n", "2 3\n0:1\n1:1\n", "trn_X.txt:3: "),
    ])
    func badInputNamesTheFileAndLine(texts: String, matrix: String, message: String) throws {
        let (textPath, labels) = try dataset(texts: texts, matrix: matrix)
        #expect {
            _ = try ECRFormat.documents(texts: textPath, labels: try ECRFormat.labels(path: labels))
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func badRowsAreSkippedAndCountedWhenAsked() throws {
        let (texts, labels) = try dataset(texts: "a\nb\nc\n", matrix: "3 3\n0:1\n9:1\n2:1\n")
        let (documents, report) = try ECRFormat.documents(texts: texts, labels: try ECRFormat.labels(path: labels), policy: .skip)
        #expect(documents.map(\.id) == ["0", "2"] && report.skippedLines == 1)
        #expect(report.firstErrors.first.map { "\($0)" }?.contains("trn_X_Y.txt:3") == true)
    }
}
