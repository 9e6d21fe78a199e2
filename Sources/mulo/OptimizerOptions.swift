import ArgumentParser
import Foundation
import MuLO

/// The optimizer of `train` and `coord-check`: a hand-designed one from its flags, or a learned
/// one from --checkpoint — built as the `EvalOptimizer` that `evaluate-on-width` runs, so every
/// command makes optimizers the same way. Defaults that differ per command are passed to `choice`.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "Optimizer: \(HandDesigned.allCases.map(\.rawValue).joined(separator: ", ")), or lo (a learned optimizer from --checkpoint).")
    var optimizer: String?
    @Option(help: "Learned-optimizer θ file (implies --optimizer lo).") var checkpoint: String?
    @Option(help: "Learning rate (peak learning rate with --cosine).") var lr: Float?
    @Option(help: "Adam β1.") var beta1: Float = 0.9
    @Option(help: "Adam β2.") var beta2: Float = 0.999
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Flag(help: "Warmup-cosine schedule decaying to 0.1·lr at the last step.") var cosine = false
    @Option(help: "Warmup steps with --cosine.") var warmup = 0

    func validate() throws {
        if let optimizer {
            guard HandDesigned(rawValue: optimizer) != nil || optimizer == "lo" else {
                throw ValidationError("unknown optimizer '\(optimizer)'; choose one of \(HandDesigned.allCases.map(\.rawValue).joined(separator: ", ")), lo")
            }
            guard (optimizer == "lo") == (checkpoint != nil) else {
                throw ValidationError(optimizer == "lo" ? "--optimizer lo needs --checkpoint THETA.h5" : "--checkpoint goes with --optimizer lo")
            }
        }
        // The command's own default rate and steps are not known here; 1 and the warmup stand in for them.
        if let problem = settings(lr: lr ?? 1, steps: max(warmup, 1)).problem { throw ValidationError(problem) }
    }

    func settings(lr: Float, steps: Int) -> HandDesigned.Settings {
        var s = HandDesigned.Settings()
        (s.learningRate, s.beta1, s.beta2, s.weightDecay, s.momentum) = (lr, beta1, beta2, weightDecay, momentum)
        (s.cosine, s.warmupSteps, s.totalSteps) = (cosine, warmup, steps)
        return s
    }

    /// The optimizer's name as given (`lo` with a checkpoint), or `defaultOptimizer`.
    func name(default defaultOptimizer: String) -> String { optimizer ?? (checkpoint != nil ? "lo" : defaultOptimizer) }

    func choice(defaultOptimizer: String, defaultLR: Float, steps: Int) throws -> EvalOptimizer {
        if let checkpoint { return try EvalOptimizer.learned(path: checkpoint) }
        let kind = HandDesigned(rawValue: name(default: defaultOptimizer))!
        let s = settings(lr: lr ?? defaultLR, steps: steps)
        return EvalOptimizer(kind: .baseline(kind, s), key: kind.rawValue, label: "\(kind.label) η=\(s.learningRate)")
    }
}
