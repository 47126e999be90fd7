import ArgumentParser
import DensekitLosses
import DensekitTraining

/// `train dual`'s hard-negative mixing flags (MoCHi, Kalantidis et al. 2020).
struct MixingOptionGroup: ParsableArguments {
    @Option(name: .long, help: "MoCHi: mix each query's N highest-scoring negatives (in-batch and hard; never a positive). 0: off.")
    var mixHardest = 0
    @Option(name: .long, help: "MoCHi: synthetic negatives per query mixing two of its hardest, normalize(a n_i + (1-a) n_j), a ~ U(0,1).")
    var mixNegatives = 0
    @Option(name: .long, help: "MoCHi: harder synthetic negatives per query mixing the query into one of its hardest, normalize(b q + (1-b) n_j), b ~ U(0,0.5).")
    var mixQuery = 0
    @Option(name: .long, help: "MoCHi: the first step that mixes (counted from 0).")
    var mixStart = 0

    func validate() throws {
        for (name, value) in [("--mix-hardest", mixHardest), ("--mix-negatives", mixNegatives), ("--mix-query", mixQuery), ("--mix-start", mixStart)] where value < 0 {
            throw ValidationError("\(name) must be 0 or more, not \(value)")
        }
        if mixHardest > 0, mixNegatives + mixQuery == 0 {
            throw ValidationError("--mix-hardest \(mixHardest) makes nothing without --mix-negatives or --mix-query")
        }
        if mixHardest == 0, mixNegatives + mixQuery > 0 {
            throw ValidationError("--mix-negatives and --mix-query need --mix-hardest N (how many of each query's hardest negatives to mix)")
        }
    }

    /// The schedule these flags ask for; nil when mixing is off.
    var schedule: MixingSchedule? {
        let mixing = HardNegativeMixing(hardest: mixHardest, negatives: mixNegatives, query: mixQuery)
        return mixing.isActive ? MixingSchedule(mixing: mixing, startStep: mixStart) : nil
    }
}
