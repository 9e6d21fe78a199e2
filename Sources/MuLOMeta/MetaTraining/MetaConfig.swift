import Foundation

/// One meta-training experiment (a file in MetaTasks/). Every constant of METHOD §4.6 is a
/// field; defaults are the paper's values, and `departures` lists every field that differs.
public struct MetaConfig: Codable, Sendable, Equatable {
    public struct Family: Codable, Sendable, Equatable {
        /// A task name with `{W}` for the width, e.g. `mumlp-w{W}-d3_fashionmnist-28x28x1`.
        public var template: String
        /// The widths, one family each, in order.
        public var widths: [Int]
        public var batchSize: Int

        public init(template: String, widths: [Int], batchSize: Int) {
            self.template = template
            self.widths = widths
            self.batchSize = batchSize
        }

        public var taskNames: [String] { widths.map { template.replacingOccurrences(of: "{W}", with: "\($0)") } }
    }

    public enum Estimator: String, Codable, Sendable { case pes, es }

    public var name: String
    public var seed: UInt64 = 0
    public var outerSteps: Int = 5000
    public var families: [Family] = []
    // Learned optimizer
    public var parametrization: Parametrization = .mup
    public var stepMult: Float = LOConfig.defaultStepMult(.mup)
    public var expMult: Float = 0.001
    public var hiddenSize: Int = 32
    public var initSeed: UInt64 = 0
    public var initCheckpoint: String?
    // Estimator
    public var estimator: Estimator = .pes
    public var pairs: Int = 8
    public var sigma: Float = 0.01
    public var truncation: Int = 50
    public var episodeMin: Int = 100
    public var episodeMax: Int = 1000
    public var initialOffsetMax: Int = 50
    // Outer optimizer
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 1e-4
    public var updateClip: Float = 1.0
    public var lrInitial: Float = 3e-10
    public var lrPeak: Float = 3e-3
    public var lrFinal: Float = 1e-3
    public var warmupSteps: Int = 100
    public var decayEnd: Int = 4900
    // Checkpoints
    public var checkpointInterval: Int = 50
    public var keepCheckpoints: Int = 10

    public init(name: String) { self.name = name }

    public var loConfig: LOConfig {
        LOConfig(parametrization: parametrization, stepMult: stepMult, expMult: expMult, hiddenSize: hiddenSize)
    }

    public var schedule: Schedule {
        .warmupCosine(initial: lrInitial, peak: lrPeak, final: lrFinal, warmupSteps: warmupSteps, decayEnd: decayEnd)
    }

    public var taskNames: [String] { families.flatMap(\.taskNames) }
    public var batchSizes: [Int] { families.flatMap { f in f.widths.map { _ in f.batchSize } } }

    /// The fields that define the experiment: a checkpoint is only resumed under the same ones
    /// (outer steps and checkpointing may change between runs).
    public var identity: String {
        var c = self
        c.outerSteps = 0
        c.checkpointInterval = 0
        c.keepCheckpoints = 0
        return String(decoding: try! JSONEncoder.sorted.encode(c), as: UTF8.self)
    }

    /// Every difference from the paper's μLO_M setting (METHOD §4.6), as readable lines.
    public var departures: [String] {
        let paper = MetaConfig(name: "paper")
        var out: [String] = []
        func check<T: Equatable>(_ label: String, _ ours: T, _ theirs: T) {
            if ours != theirs { out.append("\(label): \(ours) (paper: \(theirs))") }
        }
        let paperTasks = ["mumlp-w1024-d3_imagenet-32x32x3", "mumlp-w512-d3_imagenet-32x32x3", "mumlp-w128-d3_imagenet-32x32x3"]
        let ours = parametrization == .mup ? taskNames : taskNames.map { "mu" + $0 }
        if Set(ours) != Set(paperTasks) { out.append("tasks: \(taskNames.joined(separator: ", ")) (paper: \(paperTasks.joined(separator: ", ")) or their SP twins)") }
        if batchSizes.contains(where: { $0 != 4096 }) { out.append("inner batch: \(batchSizes.map(String.init).joined(separator: ", ")) (paper: 4096)") }
        check("step_mult", stepMult, LOConfig.defaultStepMult(parametrization))
        check("exp_mult", expMult, paper.expMult)
        check("hidden_size", hiddenSize, paper.hiddenSize)
        check("estimator", estimator.rawValue, paper.estimator.rawValue)
        check("pairs", pairs, paper.pairs)
        check("sigma", sigma, paper.sigma)
        check("truncation", truncation, paper.truncation)
        check("episode length", "[\(episodeMin), \(episodeMax))", "[\(paper.episodeMin), \(paper.episodeMax))")
        check("initial offset", "[0, \(initialOffsetMax))", "[0, \(paper.initialOffsetMax))")
        check("AdamW (β1, β2, ε, weight decay)", "\(beta1), \(beta2), \(epsilon), \(weightDecay)",
              "\(paper.beta1), \(paper.beta2), \(paper.epsilon), \(paper.weightDecay)")
        check("update clip", updateClip, paper.updateClip)
        check("learning-rate schedule", "\(lrInitial)→\(lrPeak) over \(warmupSteps), cosine to \(lrFinal) at \(decayEnd)",
              "\(paper.lrInitial)→\(paper.lrPeak) over \(paper.warmupSteps), cosine to \(paper.lrFinal) at \(paper.decayEnd)")
        check("outer steps", outerSteps, paper.outerSteps)
        return out
    }

    /// Checks every value; the message names the field.
    public func validate() throws {
        func fail(_ m: String) -> MetaConfigError { MetaConfigError("\(name): \(m)") }
        guard !families.isEmpty else { throw fail("the family list is empty: add at least one [[families]] entry") }
        for f in families {
            guard f.template.contains("{W}") else { throw fail("family template '\(f.template)' has no {W}") }
            guard !f.widths.isEmpty else { throw fail("family '\(f.template)' has no widths") }
            guard f.widths.allSatisfy({ $0 >= 1 }) else { throw fail("widths must be ≥ 1, got \(f.widths)") }
            guard f.batchSize >= 1 else { throw fail("batch_size must be ≥ 1") }
            for name in f.taskNames {
                let t = try TaskRegistry.parse(name)
                guard t.parametrization == parametrization else {
                    throw fail("task \(name) is \(t.parametrization.rawValue) but the learned optimizer is \(parametrization.rawValue)")
                }
            }
        }
        guard Set(taskNames).count == taskNames.count else { throw fail("the same task appears twice: \(taskNames)") }
        guard sigma > 0, sigma.isFinite else { throw fail("sigma must be > 0, got \(sigma)") }
        guard pairs >= 1 else { throw fail("pairs must be ≥ 1") }
        guard truncation >= 1 else { throw fail("truncation must be ≥ 1") }
        guard episodeMin >= 1, episodeMax > episodeMin else { throw fail("episode lengths need 1 ≤ episode_min < episode_max") }
        guard initialOffsetMax >= 1 else { throw fail("initial_offset_max must be ≥ 1") }
        guard outerSteps >= 1 else { throw fail("outer_steps must be ≥ 1") }
        guard hiddenSize >= 1, stepMult > 0, expMult >= 0 else { throw fail("hidden_size, step_mult must be positive") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), epsilon > 0, weightDecay >= 0, updateClip > 0 else {
            throw fail("outer optimizer needs β in [0, 1), ε > 0, weight_decay ≥ 0, update_clip > 0")
        }
        guard lrPeak > 0, lrInitial >= 0, lrFinal >= 0, warmupSteps >= 0, decayEnd >= warmupSteps else {
            throw fail("learning rates must be ≥ 0 (peak > 0) and decay_end ≥ warmup_steps")
        }
        guard checkpointInterval >= 1, keepCheckpoints >= 1 else { throw fail("checkpoint interval and keep must be ≥ 1") }
    }
}
