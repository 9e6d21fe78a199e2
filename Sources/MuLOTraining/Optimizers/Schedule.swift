import Foundation

/// Learning-rate schedules, evaluated at s = number of updates already applied.
public enum Schedule: Sendable, Equatable, Codable {
    case constant(Float)
    /// Linear warmup from `initial` to `peak` over `warmupSteps`, then cosine decay to `final`
    /// at step `decayEnd`, constant afterwards. METHOD §4.5's outer schedule is
    /// (3e-10, 3e-3, 1e-3, 100, 4900); §6.2's baselines decay to 0.1·peak at the last step.
    case warmupCosine(initial: Float, peak: Float, final: Float, warmupSteps: Int, decayEnd: Int)

    public func value(at s: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case let .warmupCosine(initial, peak, final, warmup, end):
            if s < warmup {
                return initial + (peak - initial) * Float(s) / Float(warmup)
            }
            if s > end || end == warmup { return final }
            let progress = Double(s - warmup) / Double(end - warmup)
            return final + (peak - final) * Float(0.5 * (1 + cos(Double.pi * progress)))
        }
    }

    /// The baselines' schedule (METHOD §6.2): warmup, then cosine to 0.1·peak at `totalSteps`.
    public static func baseline(peak: Float, warmupSteps: Int, totalSteps: Int) -> Schedule {
        .warmupCosine(initial: 0, peak: peak, final: 0.1 * peak, warmupSteps: warmupSteps, decayEnd: totalSteps)
    }

    /// METHOD §4.5: the meta-training (outer) learning rate.
    public static let metaTraining = Schedule.warmupCosine(initial: 3e-10, peak: 3e-3, final: 1e-3,
                                                           warmupSteps: 100, decayEnd: 4900)
}
