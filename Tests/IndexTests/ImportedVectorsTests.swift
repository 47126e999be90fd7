import DensekitEncoder
import DensekitIndex
import DensekitSearch
import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

/// `index import`'s library side: an index built from precomputed vectors (in the collection's
/// order, or in any order with ids) equals the one `index build` makes; an interrupted import
/// resumes to the same index; vectors that do not fit the model or the collection are refused
/// with the file (and line or row) named, and nothing wrong is stored.
@Suite struct ImportedVectorsTests {
    static let passages = IndexFolderTests.passages

    struct Built {
        let encoder: SentenceEncoder
        let folder: IndexFolder
        /// The encoded vectors, row i = passage i.
        let vectors: [Float]
    }

    /// `index build` of the 150 passages with a tiny model.
    static let built: Built = {
        do {
            let modelFolder = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 7))
            let encoder = try SentenceEncoder.load(directory: modelFolder)
            let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
            var options = IndexBuilder.Options()
            options.commitEvery = 32
            let builder = IndexBuilder(folder: folder, encoder: encoder, options: options)
            try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: encoder.identity())
            _ = try builder.build(next: IndexFolderTests().reader(passages))
            let vectors = try IndexFolderTests().allVectors(folder, dimension: encoder.dimension)
            return Built(encoder: encoder, folder: folder, vectors: vectors)
        } catch {
            fatalError("fixture: \(error)")
        }
    }()

    /// `rows` (row-major, `columns` wide) written as a .npy file.
    func npy(_ rows: [Float], columns: Int) throws -> NpyMatrixFile {
        let path = try TinyModel.temporaryFolder().appendingPathComponent("v.npy").path
        try NpyMatrixFile.write(rows, rows: rows.count / columns, columns: columns, to: path)
        return try NpyMatrixFile(path: path)
    }

    /// A new folder and a builder storing `source`'s rows (commits of 32).
    func importer(_ source: ImportedVectors) throws -> (IndexFolder, IndexBuilder) {
        let folder = try IndexFolder(path: TinyModel.temporaryFolder().path, create: true)
        var options = IndexBuilder.Options()
        options.commitEvery = 32
        let builder = IndexBuilder(folder: folder, vectors: source, options: options)
        try builder.prepare(source: "/corpus.tsv", format: "msmarco", model: Self.built.encoder.identity(), vectorSource: source.matrix.path)
        return (folder, builder)
    }

    func imported(ids: [String]? = nil, rows: [Float]? = nil) throws -> ImportedVectors {
        let encoder = Self.built.encoder
        return try ImportedVectors(matrix: npy(rows ?? Self.built.vectors, columns: encoder.dimension), dimension: encoder.dimension,
                                   normalized: encoder.pooling.normalize, ids: ids, idsPath: ids == nil ? nil : "ids.txt")
    }

    /// Same ids, same vectors (bit for bit: they are copied), same search results as the build.
    func expectSameIndex(_ folder: IndexFolder) throws {
        let built = Self.built
        let ids = Array(0..<150)
        #expect(try folder.store.passages(internalIds: ids).map { $0?.id } == built.folder.store.passages(internalIds: ids).map { $0?.id })
        #expect(try IndexFolderTests().allVectors(folder, dimension: built.encoder.dimension) == built.vectors)
        let queries = ["the cat sat", "big red dog ran", "mat"]
        let a = try Searcher(folder: built.folder, log: { _ in }).search(queries, k: 5)
        let b = try Searcher(folder: folder, log: { _ in }).search(queries, k: 5)
        #expect(a.map { $0.map(\.id) } == b.map { $0.map(\.id) } && a.map { $0.map(\.score) } == b.map { $0.map(\.score) })
        #expect(try folder.manifest().vectorSource != nil && folder.store.progress().complete)
    }

    @Test func rowsInTheCollectionsOrderGiveTheBuiltIndex() throws {
        let (folder, builder) = try importer(imported())
        let report = try builder.build(next: IndexFolderTests().reader(Self.passages))
        #expect(report.total == 150 && report.stored == 150)
        try expectSameIndex(folder)
    }

    @Test func rowsInAnotherOrderWithTheirIdsGiveTheBuiltIndex() throws {
        let width = Self.built.encoder.dimension
        var generator = SeededGenerator(seed: 3)
        let order = Array(0..<150).shuffled(using: &generator)
        let rows = order.flatMap { Self.built.vectors[($0 * width)..<(($0 + 1) * width)] }
        let (folder, builder) = try importer(imported(ids: order.map { "p\($0)" }, rows: rows))
        _ = try builder.build(next: IndexFolderTests().reader(Self.passages))
        try expectSameIndex(folder)
    }

    @Test func anInterruptedImportResumesToTheSameIndex() throws {
        let source = try imported()
        let (folder, builder) = try importer(source)
        #expect(throws: CancellationError.self) { try builder.build(next: IndexFolderTests().reader(Self.passages, failAfter: 70)) }
        #expect(try folder.store.count() == 64)
        // The process died: a new one opens the same file and folder.
        let again = IndexBuilder(folder: folder, vectors: try ImportedVectors(matrix: NpyMatrixFile(path: source.matrix.path), dimension: source.dimension,
                                                                               normalized: source.normalized), options: builder.options)
        try again.prepare(source: "/corpus.tsv", format: "msmarco", model: Self.built.encoder.identity(), vectorSource: source.matrix.path)
        let report = try again.build(next: IndexFolderTests().reader(Self.passages))
        #expect(report.resumedAfterLine == 64 && report.stored == 86)
        try expectSameIndex(folder)
        // Resuming it as an encoding build (or from another file) is refused.
        #expect { try again.prepare(source: "/corpus.tsv", format: "msmarco", model: Self.built.encoder.identity()) } throws: {
            "\($0)".contains("imported from \(source.matrix.path)")
        }
    }

    @Test func vectorsThatDoNotFitTheModelOrTheCollectionAreRefused() throws {
        let encoder = Self.built.encoder, width = encoder.dimension
        let vectors = Self.built.vectors
        // Another dimension: refused before anything is read.
        #expect { try ImportedVectors(matrix: npy(Array(vectors.prefix(150 * (width - 1))), columns: width - 1), dimension: width, normalized: true) }
            throws: { "\($0)".contains("dimension \(width - 1), but the model's are \(width)") }
        // Ids: one short, or one twice.
        let ids = (0..<150).map { "p\($0)" }
        #expect { try imported(ids: Array(ids.dropLast())) } throws: { "\($0)".contains("ids.txt: 149 ids, but") && "\($0)".contains("has 150 rows") }
        #expect { try imported(ids: Array(ids.dropLast()) + ["p3"]) } throws: { "\($0)".contains("ids.txt:150: id 'p3' is also on line 4") }

        // Fewer rows than passages: the batch that runs out is not stored, and the error names
        // the first passage without a row.
        let (short, shortBuilder) = try importer(imported(rows: Array(vectors.prefix(100 * width))))
        #expect { try shortBuilder.build(next: IndexFolderTests().reader(Self.passages)) } throws: {
            "\($0)".contains("has 100 rows, but corpus has more passages (line 101, 'p100', is passage 101)")
        }
        #expect(try short.store.count() == 96 && !short.store.progress().complete)
        // More rows than passages: everything is stored, but the build is not complete (no FAISS index).
        let (long, longBuilder) = try importer(imported(rows: vectors + Array(vectors.prefix(width))))
        #expect { try longBuilder.build(next: IndexFolderTests().reader(Self.passages)) } throws: { "\($0)".contains("has 151 rows, but corpus has 150 passages") }
        #expect(try !long.store.progress().complete && long.store.indexRecord() == nil)
        // A passage whose id has no row.
        var renamed = Self.passages
        renamed[40].id = "stranger"
        let (_, idsBuilder) = try importer(imported(ids: ids))
        #expect { try idsBuilder.build(next: IndexFolderTests().reader(renamed)) } throws: { "\($0)".contains("corpus:41: passage 'stranger' has no row in ids.txt") }
        // A row that is not unit length for a normalizing model, and one with a NaN.
        #expect(encoder.pooling.normalize)
        for (row, value) in [(70, Float(0.5)), (71, Float.nan)] {
            var bad = vectors
            bad[row * width] = value
            let (folder, builder) = try importer(imported(rows: bad))
            #expect { try builder.build(next: IndexFolderTests().reader(Self.passages)) } throws: {
                "\($0)".contains("row \(row) (passage 'p\(row)', corpus:\(row + 1)): vector " + (value.isNaN ? "holds NaN" : "norm"))
            }
            #expect(try folder.store.count() == 64)
        }
    }

    @Test func malformedNpyFilesAreNamed() throws {
        let folder = try TinyModel.temporaryFolder()
        func write(_ name: String, _ data: Data) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }
        let good = try npy([1, 2, 3, 4, 5, 6], columns: 3)
        #expect(good.rows == 2 && good.columns == 3)
        #expect(try good.read(rows: 1..<2) == [4, 5, 6])
        #expect { try good.read(rows: 1..<3) } throws: { "\($0)".contains("has 2 rows; row 2 was asked for") }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good.path))
        /// The file with `a` replaced by `b` in its header (ASCII after the 10-byte preamble).
        func edited(_ a: String, _ b: String) -> Data {
            let header = String(decoding: bytes[10..<128], as: UTF8.self).replacingOccurrences(of: a, with: b)
            return bytes.prefix(10) + Data(header.utf8) + bytes.dropFirst(128)
        }
        let cases: [(String, Data, String)] = [
            ("text.npy", Data("hello".utf8), "not a .npy file"),
            ("truncated.npy", bytes.dropLast(4), "20 data bytes for shape (2, 3), which needs 24"),
            ("f8.npy", edited("'<f4'", "'<f8'"), "expected a C-order little-endian float32 matrix"),
            ("3d.npy", edited("(2, 3)", "(2,3,1)"), "expected 2 dimensions"),
        ]
        for (name, data, message) in cases {
            let path = try write(name, data)
            #expect { try NpyMatrixFile(path: path) } throws: { "\($0)".hasPrefix(path + ": ") && "\($0)".contains(message) }
        }
        #expect { try NpyMatrixFile(path: folder.appendingPathComponent("absent.npy").path) } throws: { "\($0)".contains("absent.npy: cannot read: No such file") }
    }
}
