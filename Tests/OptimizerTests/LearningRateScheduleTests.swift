import DensekitTraining
import Foundation
import Testing

/// Schedule values at the steps where Hugging Face's formulas have known values.
@Suite struct LearningRateScheduleTests {
    func rate(_ schedule: LearningRateSchedule, _ step: Int) -> Double { Double(schedule.learningRate(at: step)) }

    @Test func linearWarmupThenLinearDecay() {
        let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, decay: .linear)
        #expect(rate(s, 0) == 0)                                  // HF: the first update has lr 0
        #expect(abs(rate(s, 5) - 5e-4) < 1e-9)
        #expect(abs(rate(s, 10) - 1e-3) < 1e-9)                    // end of warmup: the peak
        #expect(abs(rate(s, 60) - 5e-4) < 1e-9)                    // halfway down: (110-60)/100
        #expect(abs(rate(s, 109) - 1e-5) < 1e-9)
        #expect(rate(s, 110) == 0)
        #expect(rate(s, 500) == 0)
    }

    @Test func linearWarmupThenCosineDecay() {
        let s = LearningRateSchedule(peak: 2e-5, warmupSteps: 10, totalSteps: 110, decay: .cosine)
        #expect(rate(s, 0) == 0)
        #expect(abs(rate(s, 5) - 1e-5) < 1e-12)
        #expect(abs(rate(s, 10) - 2e-5) < 1e-12)
        #expect(abs(rate(s, 60) - 1e-5) < 1e-12)                   // progress 1/2: 0.5 (1 + cos(pi/2))
        #expect(abs(rate(s, 35) - 2e-5 * 0.5 * (1 + cos(Double.pi / 4))) < 1e-12)
        #expect(rate(s, 110) == 0)
        #expect(rate(s, 150) == 0)                                 // stays 0 past the end
        #expect(rate(s, 109) > 0)
    }

    @Test func constantWithAndWithoutWarmup() {
        let warm = LearningRateSchedule(peak: 3e-4, warmupSteps: 4, totalSteps: 100, decay: .constant)
        #expect(rate(warm, 0) == 0)
        #expect(abs(rate(warm, 2) - 1.5e-4) < 1e-10)
        #expect(abs(rate(warm, 4) - 3e-4) < 1e-10)
        #expect(abs(rate(warm, 10_000) - 3e-4) < 1e-10)
        let flat = LearningRateSchedule.constant(1e-4)
        #expect(flat.learningRate(at: 0) == 1e-4 && flat.learningRate(at: 123_456) == 1e-4)
    }

    @Test func noWarmupStartsAtThePeak() {
        for decay in LearningRateSchedule.Decay.allCases {
            let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 0, totalSteps: 100, decay: decay)
            #expect(s.learningRate(at: 0) == 1e-3, "\(decay)")
            #expect(s.multiplier(at: 50) == (decay == .constant ? 1 : 0.5), "\(decay)")
        }
    }

    /// AR2's ranker: a warm-up schedule over its own updates, then the co-training one read from 0.
    @Test func phasesFollowOneAnother() {
        let warmup = LearningRateSchedule(peak: 1e-3, warmupSteps: 2, totalSteps: 10), cycles = LearningRateSchedule(peak: 1e-5, warmupSteps: 0, totalSteps: 4)
        let phased = PhasedSchedule([warmup, cycles])
        for step in 0..<10 { #expect(phased.learningRate(at: step) == warmup.learningRate(at: step), "\(step)") }
        #expect(phased.learningRate(at: 10) == 1e-5)
        #expect(phased.learningRate(at: 12) == cycles.learningRate(at: 2) && cycles.learningRate(at: 2) == 5e-6)
        #expect(phased.learningRate(at: 14) == 0 && phased.learningRate(at: 40) == 0)  // the last phase goes on past its end
        #expect(PhasedSchedule([cycles]).learningRate(at: 3) == cycles.learningRate(at: 3))
    }
}
