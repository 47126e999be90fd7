import DensekitEncoder
import DensekitTestSupport
import Foundation
import Testing

/// The encoder's backward pass against central finite differences, tensor by tensor.
///
/// For each parameter tensor W, a random unit direction v (zero outside W) gives the
/// directional derivative two ways: analytic `∇L · v` and `(L(θ + εv) - L(θ - εv)) / 2ε`.
/// Tolerance: the forward pass runs in Float32, so L carries ~1e-6 relative rounding; with
/// ε = 3e-3 that is ~3e-4 of noise in the difference quotient, and the O(ε²) truncation term is
/// ~1e-5. We accept |fd - analytic| ≤ 2e-3 + 2% of the larger magnitude: ten times the noise,
/// while a wrong sign, a missing term or a transposed product is off by O(100%).
@Suite struct BertBackwardTests {
    let sequences: [[Int32]] = [[2, 5, 9, 12, 3], [2, 30, 7, 3], [2, 7, 7, 8, 9, 10, 11, 3]]
    let types: [[Int32]] = [[0, 0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0, 1, 1, 1, 1]]

    func batch() -> TokenBatch {
        var batch = TokenBatch()
        for (ids, tt) in zip(sequences, types) { batch.append(ids: ids, typeIds: tt) }
        return batch
    }

    /// L = Σ w ⊙ pool(encoder(batch)) with fixed random weights w.
    func loss(_ encoder: BertEncoder, pooling: PoolingConfiguration, weights: [Float]) -> Double {
        let batch = batch(), h = encoder.configuration.hiddenSize
        let workspace = EncoderWorkspace()
        let hidden = encoder.forward(batch, workspace: workspace)
        var pooled = [Float](repeating: 0, count: batch.count * h)
        pooled.withUnsafeMutableBufferPointer { pooling.pool(hidden: hidden, batch: batch, width: h, into: $0.baseAddress!) }
        return zip(pooled, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func check(pooling: PoolingConfiguration, activation: BertConfiguration.Activation = .gelu, recomputesLayers: Bool = false) {
        var configuration = TinyModel.configuration
        configuration.activation = activation
        let parameters = TinyModel.parameters(seed: 3, configuration: configuration)
        let encoder = BertEncoder(parameters: parameters)
        let layout = parameters.layout, h = configuration.hiddenSize
        var generator = SeededGenerator(seed: 5)
        let batch = batch()
        let weights = (0..<(batch.count * h)).map { _ in Float.random(in: -1...1, using: &generator) }

        // Analytic gradient.
        let activations = BertActivations(layerCount: configuration.layerCount, recomputesLayers: recomputesLayers)
        let workspace = EncoderWorkspace()
        let hidden = encoder.forward(batch, workspace: workspace, activations: activations)
        var dHidden = [Float](repeating: 0, count: batch.tokenCount * h)
        weights.withUnsafeBufferPointer { w in
            dHidden.withUnsafeMutableBufferPointer { pooling.poolBackward(hidden: hidden, batch: batch, width: h, pooledGradient: w.baseAddress!, into: $0.baseAddress!) }
        }
        var gradient = [Float](repeating: 0, count: layout.count)
        dHidden.withUnsafeBufferPointer { dh in
            gradient.withUnsafeMutableBufferPointer { encoder.backward(batch, activations: activations, outputGradient: dh.baseAddress!, parameterGradient: $0.baseAddress!) }
        }

        let epsilon: Float = 3e-3
        for slot in layout.slots {
            // Embedding tables: only rows the batch uses matter; probe those rows.
            var direction = (0..<slot.count).map { _ in Float.random(in: -1...1, using: &generator) }
            if slot.name.contains("word_embeddings") {
                let used = Set(sequences.joined().map(Int.init))
                for k in 0..<slot.count where !used.contains(k / h) { direction[k] = 0 }
                // Rows no token uses must get exactly zero gradient.
                let unused = (0..<configuration.vocabularySize).first { !used.contains($0) }!
                #expect(gradient[(slot.offset + unused * h)..<(slot.offset + (unused + 1) * h)].allSatisfy { $0 == 0 })
            }
            let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            direction = direction.map { $0 / norm }
            let analytic = (0..<slot.count).reduce(0.0) { $0 + Double(gradient[slot.offset + $1]) * Double(direction[$1]) }
            let original = Array(UnsafeBufferPointer(start: parameters.values + slot.offset, count: slot.count))
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] + epsilon * direction[k] }
            let plus = loss(encoder, pooling: pooling, weights: weights)
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] - epsilon * direction[k] }
            let minus = loss(encoder, pooling: pooling, weights: weights)
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] }
            var numeric = [(plus - minus) / (2 * Double(epsilon))]
            if activation == .relu {
                // ReLU has a kink at 0: when a pre-activation crosses it within ±ε, the central
                // difference averages two slopes while the analytic gradient is one of them,
                // so a one-sided difference (O(ε) truncation) is accepted too.
                let base = loss(encoder, pooling: pooling, weights: weights)
                numeric += [(plus - base) / Double(epsilon), (base - minus) / Double(epsilon)]
            }
            let agrees = numeric.contains { abs($0 - analytic) <= 2e-3 + 0.02 * max(abs($0), abs(analytic)) }
            #expect(agrees, "\(slot.name): finite differences \(numeric), analytic \(analytic)")

            // A random direction's derivative can sit below the 2e-3 floor, where a zero
            // gradient would pass too. Along the analytic gradient itself the derivative is
            // its norm, the largest there is: the finite difference must find that norm, and it
            // must clear the floor, so a zero, missing or misplaced gradient fails.
            let slotGradient = (0..<slot.count).map { Double(gradient[slot.offset + $0]) }
            let gradientNorm = slotGradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if slot.name.hasSuffix("attention.self.key.bias") {
                // Adding b to every key adds q·b to a whole row of scores, which softmax ignores:
                // this gradient is zero by the algebra, up to rounding.
                #expect(gradientNorm < 1e-5, "\(slot.name): gradient norm \(gradientNorm), expected 0")
                continue
            }
            #expect(gradientNorm > 2.1e-3, "\(slot.name): gradient norm \(gradientNorm) too small to check")
            let unit = slotGradient.map { Float($0 / gradientNorm) }
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] + epsilon * unit[k] }
            let alongPlus = loss(encoder, pooling: pooling, weights: weights)
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] - epsilon * unit[k] }
            let alongMinus = loss(encoder, pooling: pooling, weights: weights)
            for k in 0..<slot.count { parameters.values[slot.offset + k] = original[k] }
            let along = (alongPlus - alongMinus) / (2 * Double(epsilon))
            let tolerance = 2e-3 + 0.02 * gradientNorm + (activation == .relu ? 0.05 * gradientNorm : 0)
            #expect(abs(along - gradientNorm) <= tolerance, "\(slot.name): along the gradient \(along), its norm \(gradientNorm)")
        }
    }

    @Test func meanPoolingNormalized() { check(pooling: PoolingConfiguration(mode: .mean, normalize: true)) }
    @Test func clsPooling() { check(pooling: PoolingConfiguration(mode: .cls, normalize: false)) }
    @Test func maxPooling() { check(pooling: PoolingConfiguration(mode: .max, normalize: false)) }
    @Test func meanSqrtLengthPooling() { check(pooling: PoolingConfiguration(mode: .meanSqrtLength, normalize: true)) }
    @Test func reluActivation() { check(pooling: PoolingConfiguration(mode: .mean, normalize: false), activation: .relu) }
    @Test func recomputedLayers() { check(pooling: PoolingConfiguration(mode: .mean, normalize: true), recomputesLayers: true) }

    /// Activation checkpointing: the backward pass that recomputes each layer from its kept input
    /// gives the very gradient of the one that kept everything (same operations, same inputs),
    /// while the forward pass keeps a fraction of the memory (a 4-layer model, so the saving is
    /// visible: one layer's intermediates instead of four).
    @Test func recomputationGivesTheSameGradientWithLessMemory() {
        var configuration = TinyModel.configuration
        configuration.layerCount = 4
        let parameters = TinyModel.parameters(seed: 6, configuration: configuration)
        let encoder = BertEncoder(parameters: parameters)
        let batch = batch(), n = batch.tokenCount * configuration.hiddenSize
        var generator = SeededGenerator(seed: 9)
        let upstream = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
        func gradient(recompute: Bool) -> ([Float], [Float], Int) {
            let activations = BertActivations(layerCount: configuration.layerCount, recomputesLayers: recompute)
            let hidden = encoder.forward(batch, workspace: EncoderWorkspace(), activations: activations)
            let output = Array(UnsafeBufferPointer(start: hidden, count: n))
            let forwardBytes = activations.reservedBytes
            var gradient = [Float](repeating: 0, count: parameters.layout.count)
            upstream.withUnsafeBufferPointer { u in
                gradient.withUnsafeMutableBufferPointer { encoder.backward(batch, activations: activations, outputGradient: u.baseAddress!, parameterGradient: $0.baseAddress!) }
            }
            return (output, gradient, forwardBytes)
        }
        let (keptOutput, kept, keptBytes) = gradient(recompute: false)
        let (recomputedOutput, recomputed, recomputedBytes) = gradient(recompute: true)
        #expect(keptOutput == recomputedOutput)
        #expect(kept == recomputed)
        #expect(kept.contains { $0 != 0 })
        #expect(recomputedBytes * 3 < keptBytes, "forward pass kept \(recomputedBytes) bytes with recomputation, \(keptBytes) without")
    }

    /// Training keeps activations but must compute exactly what inference computes.
    @Test func trainingForwardEqualsInferenceForward() {
        let parameters = TinyModel.parameters(seed: 4)
        let encoder = BertEncoder(parameters: parameters)
        let batch = batch(), n = batch.tokenCount * encoder.configuration.hiddenSize
        let inference = EncoderWorkspace(), training = EncoderWorkspace()
        let activations = BertActivations(layerCount: encoder.configuration.layerCount)
        let a = Array(UnsafeBufferPointer(start: encoder.forward(batch, workspace: inference), count: n))
        let b = Array(UnsafeBufferPointer(start: encoder.forward(batch, workspace: training, activations: activations), count: n))
        #expect(a == b)
    }
}
