import DensekitTensor
import Foundation

/// A fresh folder per test: Swift Testing runs tests in parallel, so shared names collide.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("BridgeTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// densekit's seeded SplitMix64: a failure reproduces, unlike SystemRandomNumberGenerator.
typealias SeededGenerator = RandomSource

func randomFloats(_ count: Int, using generator: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
}
