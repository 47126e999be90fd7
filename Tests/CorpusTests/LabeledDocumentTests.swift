import DensekitCorpus
import Foundation
import Testing

/// XMC documents and label sets: what is read, and every bad line named by file and line.
@Suite struct LabeledDocumentTests {
    func labels() throws -> LabelSet {
        try LabelSet(path: try Fixture.file("devel::library\tLibraries.\nrole::devel-lib\tDevelopment files.\nuse::editing\tEditing\tthings\n", name: "labels.tsv"))
    }

    @Test func documentsAndLabelsAreRead() throws {
        let set = try labels()
        #expect(set.labels == ["devel::library", "role::devel-lib", "use::editing"] && set.texts[2] == "Editing\tthings")
        #expect(set.index(of: "role::devel-lib") == 1 && set.index(of: "x") == nil)
        let path = try Fixture.file("""
            {"id": "libjpeg-dev", "text": "JPEG library", "labels": ["devel::library", "role::devel-lib", "devel::library"]}

            {"id": 7, "text": "an editor", "labels": ["use::editing"], "other": 1}

            """, name: "train.jsonl")
        let (documents, report) = try LabeledDocumentReader.readAll(path: path, labels: set)
        #expect(documents == [LabeledDocument(id: "libjpeg-dev", text: "JPEG library", labels: ["devel::library", "role::devel-lib"]),
                              LabeledDocument(id: "7", text: "an editor", labels: ["use::editing"])])
        #expect(report.records == 2 && report.blankLines == 1)
    }

    @Test(arguments: [
        (#"{"id": "a", "text": "t", "labels": ["nope"]}"#, "label 'nope' is not in the label set"),
        (#"{"id": "a", "text": "t", "labels": []}"#, "document 'a' has no label"),
        (#"{"id": "a", "text": "t"}"#, "missing \"labels\""),
        (#"{"id": "a", "text": "t", "labels": "use::editing"}"#, "\"labels\" must be an array of strings"),
        (#"{"id": "a", "text": "t", "labels": [1, 2]}"#, "\"labels\" must be an array of strings"),
        (#"{"id": "", "text": "t", "labels": ["use::editing"]}"#, "empty"),
        (#"{"id": "a", "text": "t", "labels": ["use::editing"]"#, "invalid JSON"),
    ])
    func badLinesNameTheFileAndLine(line: String, reason: String) throws {
        let path = try Fixture.file(#"{"id": "ok", "text": "t", "labels": ["use::editing"]}"# + "\n" + line + "\n", name: "docs.jsonl")
        #expect {
            _ = try LabeledDocumentReader.readAll(path: path, labels: try labels())
        } throws: { error in
            let message = "\(error)"
            return message.contains("\(path):2") && message.contains(reason)
        }
        // Skipped and counted instead, keeping the good line.
        let (documents, report) = try LabeledDocumentReader.readAll(path: path, labels: try labels(), policy: .skip)
        #expect(documents.map(\.id) == ["ok"] && report.skippedLines == 1)
    }

    @Test func aDocumentIdReadTwiceIsRefused() throws {
        let line = #"{"id": "a", "text": "t", "labels": ["use::editing"]}"#
        let path = try Fixture.file(line + "\n" + line + "\n", name: "docs.jsonl")
        #expect {
            _ = try LabeledDocumentReader.readAll(path: path, labels: nil)
        } throws: { "\($0)".contains("\(path):2") && "\($0)".contains("duplicate document id 'a' (first at line 1") }
    }

    @Test(arguments: [("a\tA\na\tB\n", ":2: label 'a' listed twice (first at line 1)"), ("a\tA\nb\n", ":2: expected label<TAB>text"),
                      ("\tA\n", ":1: empty label"), ("\n", "no label")])
    func badLabelFilesAreRefused(text: String, reason: String) throws {
        let path = try Fixture.file(text, name: "labels.tsv")
        #expect { _ = try LabelSet(path: path) } throws: { "\($0)".contains(reason) }
    }
}
