import DensekitEncoder
import DensekitTensor
import Foundation

/// Each training document's nearest labels under the model as it was at one step: the pool
/// of hard negative labels for label sets too large to score whole (DEXML's dist-de-hnm, whose
/// shortlist is the top 100, refreshed every few epochs). Exact search (one GEMM per block of
/// documents) over the label embeddings; kept on disk so that a resumed run draws from the
/// shortlist the uninterrupted run had.
public struct LabelShortlist: Sendable, Equatable {
    /// The step whose weights made it.
    public let step: Int
    public let depth: Int
    /// Document i's labels, nearest first: `labels[i * depth ..< (i + 1) * depth]` (label
    /// positions in the label set; -1 pads when there are fewer labels than `depth`).
    public let labels: [Int32]

    public init(step: Int, depth: Int, labels: [Int32]) {
        self.step = step
        self.depth = depth
        self.labels = labels
    }

    public var documentCount: Int { depth == 0 ? 0 : labels.count / depth }

    /// Document `index`'s shortlist, nearest first.
    public func labels(of index: Int) -> ArraySlice<Int32> { labels[(index * depth)..<((index + 1) * depth)] }

    /// The shortlist of `model`: documents through the query (document) tower, labels through
    /// the passage (label) tower.
    public static func compute(step: Int, model: DualEncoder, documents: [String], labels: [String], depth: Int,
                               documentMaxLength: Int, labelMaxLength: Int, threads: Int) -> LabelShortlist {
        let depth = min(depth, labels.count)
        let labelVectors = model.passage.encode(labels, options: EncodeOptions(threads: threads, maxLength: labelMaxLength))
        let index = ExactSearch(dimension: labelVectors.dimension)
        labelVectors.values.withUnsafeBufferPointer { index.add($0.baseAddress!, count: labelVectors.count) }
        var result: [Int32] = []
        result.reserveCapacity(documents.count * depth)
        let block = 1024
        for start in stride(from: 0, to: documents.count, by: block) {
            let end = min(start + block, documents.count)
            let vectors = model.query.encode(Array(documents[start..<end]), options: EncodeOptions(threads: threads, maxLength: documentMaxLength))
            let (_, ids) = vectors.values.withUnsafeBufferPointer { index.search($0.baseAddress!, count: end - start, k: depth) }
            result += ids.map { Int32(truncatingIfNeeded: $0) }
        }
        return LabelShortlist(step: step, depth: depth, labels: result)
    }

    /// `densekit-shortlist v1`, then step, depth and count as little-endian Int64, then the labels as Int32.
    static let magic = Array("densekit-shortlist v1\n".utf8)

    /// Writes the shortlist to `url` atomically (a kill leaves the old file or the new one).
    public func save(to url: URL) throws {
        var data = Data(Self.magic)
        for value in [step, depth, labels.count] { withUnsafeBytes(of: Int64(value).littleEndian) { data.append(contentsOf: $0) } }
        labels.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: url, options: .atomic)
    }

    /// Reads a file `save` wrote.
    /// - Throws: `TrainingError.checkpoint` for a file that is not one, or is cut short.
    public static func load(from url: URL) throws -> LabelShortlist {
        let data = try Data(contentsOf: url)
        let header = magic.count + 24
        guard data.count >= header, Array(data.prefix(magic.count)) == magic else {
            throw TrainingError.checkpoint("\(url.path) is not a densekit label shortlist")
        }
        let fields = (0..<3).map { i in data.withUnsafeBytes { Int(Int64(littleEndian: $0.loadUnaligned(fromByteOffset: magic.count + 8 * i, as: Int64.self))) } }
        guard fields[0] >= 0, fields[1] >= 0, fields[2] >= 0, data.count == header + 4 * fields[2] else {
            throw TrainingError.checkpoint("\(url.path) is cut short or damaged (\(data.count) bytes)")
        }
        let labels = data.withUnsafeBytes { raw in (0..<fields[2]).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: header + 4 * $0, as: Int32.self)) } }
        return LabelShortlist(step: fields[0], depth: fields[1], labels: labels)
    }
}
