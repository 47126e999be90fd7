import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// `train.jsonl`: what a run appends, what a resumed run keeps, what a reader refuses.
struct TrainingLogTests {
    func step(_ n: Int) -> TrainingLog.Record {
        TrainingLog.Record(step: n, loss: Float(n) / 2, lr: 1e-5, gradNorm: 0.5, seconds: 0.25, itemsPerSecond: 16)
    }

    @Test func aResumedLogKeepsRecordsUpToItsCheckpointAndDropsACutLine() throws {
        let folder = try TinyModel.temporaryFolder()
        let log = try TrainingLog(folder: folder, continuingAt: 0)
        for n in 1...5 { try log.append(step(n)) }
        try log.append(TrainingLog.Record(step: 4, evaluation: ["MRR@10": 0.5], model: "retriever"))
        // A kill in the middle of a write leaves a line cut short.
        let handle = try FileHandle(forWritingTo: log.url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"step":6,"loss":0.1"#.utf8))
        try handle.close()
        #expect(throws: TrainingError.self) { try TrainingLog.read(log.url) }

        let resumed = try TrainingLog(folder: folder, continuingAt: 4)
        try resumed.append(step(5))
        let records = try TrainingLog.read(resumed.url)
        #expect(records.map(\.step) == [1, 2, 3, 4, 4, 5])
        #expect(records[4] == TrainingLog.Record(step: 4, evaluation: ["MRR@10": 0.5], model: "retriever"))
        #expect(records[5] == step(5))

        // A fresh run (step 0) starts an empty log.
        _ = try TrainingLog(folder: folder, continuingAt: 0)
        #expect(try TrainingLog.read(resumed.url).isEmpty)
    }

    @Test func linesAreJSONWithSnakeCaseKeys() throws {
        let folder = try TinyModel.temporaryFolder()
        let log = try TrainingLog(folder: folder, continuingAt: 0)
        try log.append(step(1))
        let text = try String(contentsOf: log.url, encoding: .utf8)
        #expect(text == #"{"grad_norm":0.5,"items_per_second":16,"loss":0.5,"lr":1e-05,"seconds":0.25,"step":1}"# + "\n")
    }

    @Test func aLineThatIsNotARecordIsNamed() throws {
        let folder = try TinyModel.temporaryFolder()
        let url = folder.appendingPathComponent(TrainingLog.fileName)
        try Data("{\"step\":1}\n{\"loss\":2}\n".utf8).write(to: url)
        #expect {
            try TrainingLog.read(url)
        } throws: { error in
            "\(error)".contains("\(url.path), line 2")
        }
    }
}
