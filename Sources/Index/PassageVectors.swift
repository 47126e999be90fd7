import DensekitEncoder
import DensekitStore

/// Where an index build's vectors come from, one batch at a time, in the collection's order:
/// the passage encoder (`index build`), or vectors computed before (`index import`).
public protocol PassageVectorSource {
    var dimension: Int { get }
    /// The vectors of `passages` (row-major, `passages.count x dimension`): the collection's
    /// passages number `ordinals` (0-based in reading order, every passage read counted,
    /// whether it is stored, skipped as a duplicate or left to another shard; bad lines
    /// skipped are not passages).
    func vectors(for passages: [SourcePassage], ordinals: [Int], sourcePath: String) throws -> [Float]
    /// The collection ended after `passages` passages: a source with rows of its own checks
    /// that they were all used.
    func finish(passages: Int, sourcePath: String) throws
}

/// Vectors from the (passage tower's) encoder.
public struct EncodedPassages: PassageVectorSource {
    public let encoder: SentenceEncoder
    public let options: EncodeOptions

    public init(encoder: SentenceEncoder, options: EncodeOptions) {
        self.encoder = encoder
        self.options = options
    }

    public var dimension: Int { encoder.dimension }

    public func vectors(for passages: [SourcePassage], ordinals: [Int], sourcePath: String) -> [Float] {
        encoder.encode(passages.map(\.text), options: options).values
    }

    public func finish(passages: Int, sourcePath: String) {}
}

/// Vectors computed before, from a `.npy` float32 matrix (`densekit embed --format npy`,
/// `index export`, `numpy.save` of another tool's embeddings): row i is the collection's
/// passage i (in reading order), or, with `ids`, the passage whose id is `ids[i]` (rows in any
/// order, e.g. Tevatron's or Pyserini's encoding order). Each row is checked as it is used:
/// finite, and unit length when the model normalizes; the row count must equal the
/// collection's passage count.
///
/// Memory: the rows of one batch, plus (with `ids`) a map from id to row, about 50 bytes an
/// id for short ids (450 MB for MS MARCO's 8.8M).
public struct ImportedVectors: PassageVectorSource {
    public let matrix: NpyMatrixFile
    public let normalized: Bool
    let rowOfId: [String: Int32]?
    let idsPath: String?

    /// - Parameters:
    ///   - matrix: the vectors; its column count must be `dimension`.
    ///   - ids: the passage id of each row (`idsPath`'s lines), nil when rows follow the collection.
    /// - Throws: `IndexError.invalid` naming the file (and line): a dimension other than the
    ///   model's, an id count other than the row count, an id given twice.
    public init(matrix: NpyMatrixFile, dimension: Int, normalized: Bool, ids: [String]? = nil, idsPath: String? = nil) throws(IndexError) {
        guard matrix.columns == dimension else {
            throw .invalid("\(matrix.path): vectors of dimension \(matrix.columns), but the model's are \(dimension): were they made by another model?")
        }
        self.matrix = matrix
        self.normalized = normalized
        self.idsPath = idsPath
        guard let ids else {
            rowOfId = nil
            return
        }
        let idsName = idsPath ?? "ids"
        guard ids.count == matrix.rows else {
            throw .invalid("\(idsName): \(ids.count) ids, but \(matrix.path) has \(matrix.rows) rows: each row needs its passage id, one per line")
        }
        guard ids.count < Int(Int32.max) else { throw .invalid("\(matrix.path): \(matrix.rows) rows are more than densekit indexes (2^31)") }
        var rowOfId: [String: Int32] = [:]
        rowOfId.reserveCapacity(ids.count)
        for (row, id) in ids.enumerated() {
            if let earlier = rowOfId.updateValue(Int32(row), forKey: id) {
                throw .invalid("\(idsName):\(row + 1): id '\(id)' is also on line \(earlier + 1); each row's id must be unique")
            }
        }
        self.rowOfId = rowOfId
    }

    public var dimension: Int { matrix.columns }

    public func vectors(for passages: [SourcePassage], ordinals: [Int], sourcePath: String) throws -> [Float] {
        var rows: [Int]
        if let rowOfId {
            rows = []
            rows.reserveCapacity(passages.count)
            for passage in passages {
                guard let row = rowOfId[passage.id] else {
                    throw IndexError.invalid("\(sourcePath):\(passage.line): passage '\(passage.id)' has no row in \(idsPath ?? "the ids"): the vectors were made from another collection, or a part of it")
                }
                rows.append(Int(row))
            }
        } else {
            if let beyond = ordinals.firstIndex(where: { $0 >= matrix.rows }) {
                let first = passages[beyond]
                throw IndexError.invalid("\(matrix.path) has \(matrix.rows) rows, but \(sourcePath) has more passages (line \(first.line), '\(first.id)', is passage \(ordinals[beyond] + 1)): the vectors were made from another collection, or a part of it")
            }
            rows = ordinals
        }
        let width = matrix.columns
        var values = [Float](repeating: 0, count: rows.count * width)
        try values.withUnsafeMutableBufferPointer { buffer in
            // Runs of consecutive rows are read in one call.
            var start = 0
            while start < rows.count {
                var end = start + 1
                while end < rows.count && rows[end] == rows[end - 1] + 1 { end += 1 }
                try matrix.read(rows: rows[start]..<(rows[end - 1] + 1), into: buffer.baseAddress! + start * width)
                start = end
            }
            for (index, passage) in passages.enumerated() {
                let row = UnsafeBufferPointer(rebasing: buffer[(index * width)..<((index + 1) * width)])
                if let problem = VectorValues.problem(row, normalized: normalized) {
                    throw IndexError.invalid("\(matrix.path): row \(rows[index]) (passage '\(passage.id)', \(sourcePath):\(passage.line)): \(problem)")
                }
            }
        }
        return values
    }

    public func finish(passages: Int, sourcePath: String) throws {
        guard passages == matrix.rows else {
            throw IndexError.invalid("\(matrix.path) has \(matrix.rows) rows, but \(sourcePath) has \(passages) passages: the vectors were made from another collection, or a part of it")
        }
    }
}
