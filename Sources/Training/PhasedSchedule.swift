import Foundation

/// Learning-rate schedules one after another over one parameter vector's updates: phase `i`
/// covers its schedule's `totalSteps` updates and reads its schedule from 0; the last phase
/// goes on past its end. AR2's ranker warms up at 1e-5 for its own steps, then co-trains at 5e-7
/// on another schedule, with the same AdamW moments.
public struct PhasedSchedule: Sendable, Equatable {
    public var phases: [LearningRateSchedule]

    /// - Precondition: at least one phase.
    public init(_ phases: [LearningRateSchedule]) {
        precondition(!phases.isEmpty, "a schedule needs a phase")
        self.phases = phases
    }

    /// The learning rate for update number `step` (0-based) of the vector.
    public func learningRate(at step: Int) -> Float {
        var start = 0
        for phase in phases.dropLast() {
            if step < start + phase.totalSteps { return phase.learningRate(at: step - start) }
            start += phase.totalSteps
        }
        return phases[phases.count - 1].learningRate(at: step - start)
    }
}
