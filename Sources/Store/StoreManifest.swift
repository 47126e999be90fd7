/// What a store holds and how it was made; written once when a store is created and checked
/// on every later use, so that queries are always encoded like the passages were.
public struct StoreManifest: Codable, Equatable, Sendable {
    /// Bumped when the on-disk layout changes incompatibly.
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var model: ModelIdentity
    /// The corpus the store was built from, as given on the command line.
    public var source: String
    /// The corpus format ("msmarco", "beir", "jsonl").
    public var sourceFormat: String
    /// The FAISS index-factory string the index is (re)built with.
    public var factory: String
    /// "ip" (inner product) or "l2".
    public var metric: String
    /// The lexical (BM25) index's analyzer and parameters; nil when the index has none.
    public var lexical: LexicalSettings?
    /// The .npy file the vectors were imported from (`index import`); nil when densekit
    /// encoded them.
    public var vectorSource: String?
    /// The part of the collection this folder holds when it is one shard of a sharded build
    /// (`index build --shard I/N`); nil for a whole collection.
    public var shard: ShardSpec?
    /// The folders this one was merged from (`index merge`), in the order given; nil otherwise.
    public var mergedFrom: [String]?
    /// Vectors a FAISS index that needs training is trained on (`--train-sample`); nil: the
    /// default for its factory (`FaissIndex.defaultTrainingSample`).
    public var trainSample: Int?
    /// An IVF index keeps its inverted lists in a file beside the index file (`--on-disk`),
    /// memory-mapped, instead of in memory; nil or false: in memory.
    public var onDisk: Bool?

    /// The manifest of a new store, at the current format version.
    public init(model: ModelIdentity, source: String, sourceFormat: String, factory: String, metric: String) {
        formatVersion = Self.currentFormatVersion
        self.model = model
        self.source = source
        self.sourceFormat = sourceFormat
        self.factory = factory
        self.metric = metric
    }
}

/// How the lexical index analyzes text and scores (recorded, so queries are analyzed alike).
public struct LexicalSettings: Codable, Equatable, Sendable {
    /// English stop words removed.
    public var stopWords: Bool
    /// The stemmer's name (`StemmerKind`'s raw value: "none", "porter" or "english"); a string
    /// here because the store sits below the tokenizer that knows the names.
    public var stemmer: String
    /// BM25's term-frequency saturation and length normalisation.
    public var k1: Double
    public var b: Double

    public init(stopWords: Bool = true, stemmer: String = "none", k1: Double = 1.5, b: Double = 0.75) {
        self.stopWords = stopWords
        self.stemmer = stemmer
        self.k1 = k1
        self.b = b
    }
}

/// One shard of a collection: its passages (numbered 0, 1, ... in reading order) are cut into
/// blocks of `blockSize`, and shard `index` of `count` holds blocks `index`, `index + count`,
/// `index + 2 count`, ... Blocks keep each shard's reading sequential and let `index merge`
/// interleave the shards back into the collection's order (the ids one build would give).
public struct ShardSpec: Codable, Equatable, Sendable, CustomStringConvertible {
    /// 0-based, below `count`.
    public var index: Int
    public var count: Int
    public var blockSize: Int

    public static let defaultBlockSize = 1_024

    public init(index: Int, count: Int, blockSize: Int = ShardSpec.defaultBlockSize) {
        self.index = index
        self.count = count
        self.blockSize = blockSize
    }

    /// Whether passage number `ordinal` (0-based) is in this shard.
    public func contains(ordinal: Int) -> Bool { (ordinal / blockSize) % count == index }

    /// Passages this shard holds of a collection of `passages`.
    public func passages(of passages: Int) -> Int {
        let blocks = (passages + blockSize - 1) / blockSize
        guard index < blocks else { return 0 }
        let mine = (blocks - 1 - index) / count + 1
        let lastBlock = blocks - 1
        let lastSize = passages - lastBlock * blockSize
        return mine * blockSize - (lastBlock % count == index ? blockSize - lastSize : 0)
    }

    /// "I/N", as `--shard` takes it.
    public var description: String { "\(index)/\(count)" }
}

/// Identifies the encoder that produced a store's vectors.
public struct ModelIdentity: Codable, Equatable, Sendable {
    /// Folder name, for display.
    public var name: String
    /// Absolute folder path at build time; `search` loads the model from here by default.
    public var path: String
    /// CRC-32 and byte size of model.safetensors: different weights, different fingerprint.
    public var weightsFingerprint: String
    public var dimension: Int
    public var pooling: String
    public var normalized: Bool
    public var maxLength: Int
    /// `SentenceEncoder.architectureFingerprint` (config values, tokenizer and vocabulary,
    /// pooling); nil in manifests written before densekit recorded it, which are then compared
    /// on the other fields only.
    public var architectureFingerprint: String?

    /// Whether vectors of `other` can be mixed with (or queried against) vectors of this model.
    /// Returns the first difference, nil when there is none.
    public func difference(from other: ModelIdentity) -> String? {
        if weightsFingerprint != other.weightsFingerprint { return "weights \(weightsFingerprint) vs \(other.weightsFingerprint)" }
        if dimension != other.dimension { return "dimension \(dimension) vs \(other.dimension)" }
        if pooling != other.pooling { return "\(pooling) pooling vs \(other.pooling)" }
        if normalized != other.normalized { return normalized ? "normalized vs not normalized" : "not normalized vs normalized" }
        if let mine = architectureFingerprint, let theirs = other.architectureFingerprint, mine != theirs {
            return "configuration or tokenizer \(mine) vs \(theirs) (config.json values, vocabulary, tokenizer or truncation settings)"
        }
        return nil
    }

    /// An identity from its parts (see `SentenceEncoder.identity()`).
    public init(name: String, path: String, weightsFingerprint: String, dimension: Int, pooling: String, normalized: Bool, maxLength: Int) {
        self.name = name
        self.path = path
        self.weightsFingerprint = weightsFingerprint
        self.dimension = dimension
        self.pooling = pooling
        self.normalized = normalized
        self.maxLength = maxLength
    }
}

/// How far a build has got; committed in the same transaction as each batch, which is what
/// lets a killed build resume exactly where its last commit ended.
public struct BuildProgress: Codable, Equatable, Sendable {
    /// Records read from the source so far (stored, skipped as duplicates, or skipped as bad lines).
    public var recordsConsumed = 0
    /// Lines of the source read so far (records plus bad lines), to resume line numbering.
    public var linesConsumed = 0
    public var skippedBadLines = 0
    public var skippedDuplicates = 0
    public var replacedDuplicates = 0
    /// True once the whole source has been read.
    public var complete = false
    /// CRC-32 of the passages read so far (`id TAB text LF` each, in file order), so that a
    /// resumed build can tell that the lines it skips are still the ones it stored. nil in
    /// stores written before densekit recorded it.
    public var sourceChecksum: UInt32?

    /// Nothing read yet.
    public init() {}
}

/// The FAISS file beside the store, as last saved: which vectors it covers, and a checksum to
/// recognise a truncated or foreign file before FAISS reads it.
public struct IndexRecord: Codable, Equatable, Sendable {
    public var factory: String
    public var metric: String
    /// The index holds the store's vectors with internal ids `0..<covered`.
    public var covered: Int
    /// The store's `generation` when the index was saved; replaced vectors bump it.
    public var generation: Int
    public var fileSize: Int
    public var crc32: UInt32
    /// The inverted lists' file beside the index file (an IVF index built `--on-disk`), and its
    /// size; nil when the lists are inside the index file.
    public var dataFile: String?
    public var dataSize: Int?

    /// A record of a saved FAISS file.
    public init(factory: String, metric: String, covered: Int, generation: Int, fileSize: Int, crc32: UInt32) {
        self.factory = factory
        self.metric = metric
        self.covered = covered
        self.generation = generation
        self.fileSize = fileSize
        self.crc32 = crc32
    }
}
