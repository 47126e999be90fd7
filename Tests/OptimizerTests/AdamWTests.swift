import DensekitTensor
import DensekitTraining
import Foundation
import Testing

/// AdamW against its formula worked in Double, and the properties a trainer relies on.
@Suite struct AdamWTests {
    /// torch.optim.AdamW's update, transcribed in Double.
    struct DoubleAdamW {
        var m: [Double], v: [Double], t = 0
        let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay: Double
        init(count: Int, weightDecay: Double) {
            m = Array(repeating: 0, count: count); v = m; self.weightDecay = weightDecay
        }
        mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, decayed: (Int) -> Bool = { _ in true }) {
            t += 1
            for i in p.indices {
                if decayed(i) { p[i] *= 1 - lr * weightDecay }
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                p[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }

    /// A vector of millions of parameters is updated by several threads in parts; each element
    /// must get exactly the update a small optimizer gives it, decay ranges crossing the parts.
    @Test func largeVectorsSplitOverThreadsUpdateEachElementAlike() throws {
        let count = 2_500_000, exempt = 1_000_000..<1_500_000  // crosses the middle, where two parts meet
        var parameters = (0..<count).map { Float(($0 % 97) - 48) / 50 }
        let gradients = (0..<count).map { Float(($0 % 89) - 44) / 300 }
        var large = try AdamW(parameterCount: count, configuration: AdamWConfiguration(weightDecay: 0.1), noWeightDecay: [exempt])
        for _ in 0..<2 { large.step(parameters: &parameters, gradients: gradients, learningRate: 1e-2) }
        for window in [999_990..<1_000_010, 1_249_990..<1_250_010, 1_499_990..<1_500_010, (count - 20)..<count] {
            var small = window.map { Float(($0 % 97) - 48) / 50 }
            let smallGradients = window.map { Float(($0 % 89) - 44) / 300 }
            let local = exempt.clamped(to: window)
            let ranges = local.isEmpty ? [] : [(local.lowerBound - window.lowerBound)..<(local.upperBound - window.lowerBound)]
            var optimizer = try AdamW(parameterCount: window.count, configuration: AdamWConfiguration(weightDecay: 0.1), noWeightDecay: ranges)
            for _ in 0..<2 { optimizer.step(parameters: &small, gradients: smallGradients, learningRate: 1e-2) }
            #expect(Array(parameters[window]) == small, "\(window)")
        }
    }

    @Test func twoStepsMatchTheFormula() throws {
        let start: [Float] = [1.0, -2.0, 0.5, 0.0]
        let gradients: [[Float]] = [[0.1, -0.2, 0.3, 1e-3], [-0.05, 0.4, 0.3, 0]]
        let rates: [Float] = [1e-2, 5e-3]
        var optimizer = try AdamW(parameterCount: 4, configuration: AdamWConfiguration(weightDecay: 0.1))
        var parameters = start
        var expected = start.map(Double.init)
        var reference = DoubleAdamW(count: 4, weightDecay: 0.1)
        for (g, lr) in zip(gradients, rates) {
            optimizer.step(parameters: &parameters, gradients: g, learningRate: lr)
            reference.step(&expected, g.map(Double.init), lr: Double(lr))
        }
        #expect(optimizer.stepCount == 2)
        // Float vs Double on numbers of size ~1 after two steps: a few ulp.
        for (a, e) in zip(parameters, expected) { #expect(abs(Double(a) - e) < 1e-6 * max(1, abs(e))) }

        // Step 1 by hand: m_hat = g and v_hat = g^2, so each parameter moves by lr * g / (|g| + eps),
        // i.e. lr against the sign of its gradient, after the decay.
        var one = try AdamW(parameterCount: 4, configuration: AdamWConfiguration(weightDecay: 0.1))
        var p1 = start
        one.step(parameters: &p1, gradients: gradients[0], learningRate: 1e-2)
        #expect(abs(p1[0] - (1.0 * (1 - 1e-3) - 1e-2)) < 1e-7)
        #expect(abs(p1[1] - (-2.0 * (1 - 1e-3) + 1e-2)) < 1e-7)
        #expect(abs(p1[2] - (0.5 * (1 - 1e-3) - 1e-2)) < 1e-7)
        #expect(abs(Double(p1[3]) - -1e-2 * 1e-3 / (1e-3 + 1e-8)) < 1e-8)
        // Step 2 of parameter 0 by hand: m = 0.1 * 0.9 * 0.1 + 0.1 * -0.05 = 0.004,
        // v = 0.999 * 0.001 * 0.01 + 0.001 * 0.0025 = 1.2490e-5.
        let p0AfterDecay = Double(p1[0]) * (1 - 5e-3 * 0.1)
        let mHat = 0.004 / (1 - 0.81), vHat = 1.249e-5 / (1 - 0.998001)
        #expect(abs(Double(parameters[0]) - (p0AfterDecay - 5e-3 * mHat / (vHat.squareRoot() + 1e-8))) < 1e-6)
    }

    @Test func excludedRangesAreNotDecayed() throws {
        // Zero gradients leave m = v = 0 and the Adam step 0 / (0 + eps) = 0: only decay acts.
        var optimizer = try AdamW(
            parameterCount: 10, configuration: AdamWConfiguration(weightDecay: 0.5),
            noWeightDecay: [7..<9, 2..<4, 3..<5])
        #expect(optimizer.noWeightDecay == [2..<5, 7..<9])
        var parameters = [Float](repeating: 1, count: 10)
        optimizer.step(parameters: &parameters, gradients: [Float](repeating: 0, count: 10), learningRate: 0.1)
        let kept: Set = [2, 3, 4, 7, 8]
        for (i, p) in parameters.enumerated() { #expect(p == (kept.contains(i) ? 1 : 0.95), "parameter \(i)") }

        // With gradients, excluded parameters follow plain Adam (the reference with no decay).
        var decaying = try AdamW(parameterCount: 10, configuration: AdamWConfiguration(weightDecay: 0.5), noWeightDecay: [2..<5, 7..<9])
        var p = (0..<10).map { Float($0) - 4.5 }
        let g = (0..<10).map { Float($0 % 3) - 0.7 }
        var expected = p.map(Double.init)
        var reference = DoubleAdamW(count: 10, weightDecay: 0.5)
        for _ in 0..<3 {
            decaying.step(parameters: &p, gradients: g, learningRate: 0.05)
            reference.step(&expected, g.map(Double.init), lr: 0.05, decayed: { !kept.contains($0) })
        }
        for (a, e) in zip(p, expected) { #expect(abs(Double(a) - e) < 1e-5) }
    }

    @Test func invalidConfigurationsThrow() {
        #expect(throws: OptimizerError.rangeOutOfBounds(8..<11, parameterCount: 10)) {
            try AdamW(parameterCount: 10, noWeightDecay: [8..<11])
        }
        #expect(throws: OptimizerError.self) { try AdamW(parameterCount: 10, configuration: AdamWConfiguration(beta1: 1)) }
        #expect(throws: OptimizerError.self) { try AdamW(parameterCount: 10, configuration: AdamWConfiguration(epsilon: -1)) }
        #expect(throws: OptimizerError.self) {
            try AdamW(state: AdamWState(step: 3, firstMoment: [0, 0], secondMoment: [0]))
        }
    }

    /// Minimises sum_i c_i (x_i - t_i)^2 for `steps` steps from a seeded start.
    func quadraticRun(seed: UInt64, steps: Int, optimizer: inout AdamW, parameters: inout [Float]) {
        var generator = SeededGenerator(seed: seed)
        let targets = (0..<parameters.count).map { _ in Float.random(in: -1...1, using: &generator) }
        let curvature = (0..<parameters.count).map { _ in Float.random(in: 0.1...10, using: &generator) }
        let schedule = LearningRateSchedule(peak: 0.05, warmupSteps: 5, totalSteps: 60, decay: .cosine)
        for _ in 0..<steps {
            var gradients = (0..<parameters.count).map { 2 * curvature[$0] * (parameters[$0] - targets[$0]) }
            GradientClipping.clip(&gradients, maxNorm: 1)
            optimizer.step(parameters: &parameters, gradients: gradients, learningRate: schedule.learningRate(at: optimizer.stepCount))
        }
    }

    @Test func runsAreBitForBitReproducible() throws {
        var results: [[UInt32]] = []
        for _ in 0..<2 {
            var optimizer = try AdamW(parameterCount: 257, noWeightDecay: [100..<120])
            var parameters = [Float](repeating: 0.5, count: 257)
            quadraticRun(seed: 7, steps: 40, optimizer: &optimizer, parameters: &parameters)
            results.append(parameters.map(\.bitPattern))
        }
        #expect(results[0] == results[1])
    }

    @Test func restoredStateContinuesIdentically() throws {
        let noDecay = [10..<20]
        var straight = try AdamW(parameterCount: 64, noWeightDecay: noDecay)
        var straightParameters = [Float](repeating: -0.25, count: 64)
        quadraticRun(seed: 3, steps: 20, optimizer: &straight, parameters: &straightParameters)

        var first = try AdamW(parameterCount: 64, noWeightDecay: noDecay)
        var parameters = [Float](repeating: -0.25, count: 64)
        quadraticRun(seed: 3, steps: 10, optimizer: &first, parameters: &parameters)
        // Round-trip the checkpoint through JSON, as a trainer might for a small model.
        let saved = try JSONEncoder().encode(first.state())
        var resumed = try AdamW(state: JSONDecoder().decode(AdamWState.self, from: saved), noWeightDecay: noDecay)
        #expect(resumed.stepCount == 10)
        #expect(resumed.state() == first.state())
        // The same data as steps 11-20 of the straight run: replay the generator from the start.
        var generator = SeededGenerator(seed: 3)
        let targets = (0..<64).map { _ in Float.random(in: -1...1, using: &generator) }
        let curvature = (0..<64).map { _ in Float.random(in: 0.1...10, using: &generator) }
        let schedule = LearningRateSchedule(peak: 0.05, warmupSteps: 5, totalSteps: 60, decay: .cosine)
        for _ in 0..<10 {
            var gradients = (0..<64).map { 2 * curvature[$0] * (parameters[$0] - targets[$0]) }
            GradientClipping.clip(&gradients, maxNorm: 1)
            resumed.step(parameters: &parameters, gradients: gradients, learningRate: schedule.learningRate(at: resumed.stepCount))
        }
        #expect(parameters.map(\.bitPattern) == straightParameters.map(\.bitPattern))
        #expect(resumed.state() == straight.state())
    }

    @Test func convergesOnAQuadratic() throws {
        var optimizer = try AdamW(parameterCount: 8, configuration: AdamWConfiguration(weightDecay: 0))
        var x: [Float] = [3, -2, 1, 0, 5, -5, 0.5, 2]
        for _ in 0..<2000 {
            let g = x.map { 2 * ($0 - 1) }
            optimizer.step(parameters: &x, gradients: g, learningRate: 0.01)
        }
        for value in x { #expect(abs(value - 1) < 1e-2) }
    }
}

/// densekit's seeded SplitMix64, so runs can be compared bit for bit.
typealias SeededGenerator = RandomSource
