import Foundation

/// A training run's machine-readable log, `train.jsonl` in its output folder beside the
/// checkpoints: one JSON object per line, either a step's figures
///
///     {"grad_norm":0.52,"items_per_second":25.1,"loss":1.43,"lr":2e-05,"seconds":1.27,"step":12}
///
/// or an evaluation of the model as it was after `step` steps (step 0: before training); both
/// kinds carry `model`, naming which model, when a run trains two (AR2's "retriever" and "ranker"):
///
///     {"evaluation":{"MRR@10":0.5599,"R@10":0.7703},"step":100}
///
/// A run that resumes from the checkpoint at step S keeps the records up to S and drops the
/// rest (steps the killed run did after its last checkpoint, which the resumed run does
/// again, and a line cut short by the kill), so every step is logged once.
public final class TrainingLog {
    public static let fileName = "train.jsonl"

    /// One line of the log.
    public struct Record: Codable, Equatable, Sendable {
        public var step: Int
        public var loss: Float?
        public var lr: Float?
        public var gradNorm: Float?
        /// The step's wall-clock seconds.
        public var seconds: Double?
        /// Training examples (queries or documents) per second over the step.
        public var itemsPerSecond: Double?
        /// Metric name (as `Metric.description` writes it) to mean.
        public var evaluation: [String: Double]?
        public var model: String?

        enum CodingKeys: String, CodingKey {
            case step, loss, lr, seconds, evaluation, model
            case gradNorm = "grad_norm", itemsPerSecond = "items_per_second"
        }

        /// A step's figures; `model` names the model the step trained when the run trains two.
        public init(step: Int, loss: Float, lr: Float, gradNorm: Float, seconds: Double, itemsPerSecond: Double, model: String? = nil) {
            self.step = step
            self.model = model
            self.loss = loss
            self.lr = lr
            self.gradNorm = gradNorm
            self.seconds = seconds
            self.itemsPerSecond = itemsPerSecond
        }

        /// An evaluation after `step` steps.
        public init(step: Int, evaluation: [String: Double], model: String? = nil) {
            self.step = step
            self.evaluation = evaluation
            self.model = model
        }

        /// Whether this line holds an evaluation (not a step's figures).
        public var isEvaluation: Bool { evaluation != nil }
    }

    public let url: URL
    private let descriptor: Int32
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Opens `folder/train.jsonl` for a run that has done `step` steps: a new, empty log when
    /// `step` is 0, else the existing records up to `step` (written to a new file that
    /// replaces the old one, so a kill meanwhile leaves one or the other).
    /// - Throws: `TrainingError.checkpoint` when the file cannot be written.
    public init(folder: URL, continuingAt step: Int) throws {
        url = folder.appendingPathComponent(Self.fileName)
        let kept = step == 0 ? Data() : Self.lines(of: (try? Data(contentsOf: url)) ?? Data(), upTo: step)
        do { try kept.write(to: url, options: .atomic) } catch {
            throw TrainingError.checkpoint("\(url.path): cannot write the training log (\(error.localizedDescription))")
        }
        descriptor = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw TrainingError.checkpoint("\(url.path): cannot open the training log (\(String(cString: strerror(errno))))") }
    }

    deinit { close(descriptor) }

    /// Appends one line (one write, so a kill leaves whole lines and at most one cut short).
    public func append(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw TrainingError.checkpoint("\(url.path): cannot append to the training log (\(String(cString: strerror(errno))))")
        }
    }

    /// The records of `url`, in order.
    /// - Throws: `TrainingError.checkpoint` naming the file and line of one that is not a record.
    public static func read(_ url: URL) throws -> [Record] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpoint("\(url.path): cannot read the training log (\(error.localizedDescription))")
        }
        let decoder = JSONDecoder()
        var records: [Record] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let record = try? decoder.decode(Record.self, from: Data(line)) else {
                throw TrainingError.checkpoint("\(url.path), line \(number + 1): not a training log record (JSON with an integer \"step\")")
            }
            records.append(record)
        }
        return records
    }

    /// The whole lines of `data` whose record is at or before `step`.
    private static func lines(of data: Data, upTo step: Int) -> Data {
        struct Step: Decodable { var step: Int }
        var kept = Data()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let record = try? JSONDecoder().decode(Step.self, from: Data(line)), record.step <= step else { continue }
            kept.append(contentsOf: line)
            kept.append(UInt8(ascii: "\n"))
        }
        return kept
    }
}
