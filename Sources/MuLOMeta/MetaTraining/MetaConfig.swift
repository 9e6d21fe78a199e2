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

    /// The learned optimizer being meta-trained: its architecture's fixed configuration and θ's start.
    public struct LearnedOptimizerSettings: Codable, Sendable, Equatable {
        /// `small_fc_lopt` or `velo` (VeLO in SP, μVeLO in μP).
        public var architecture: String = SmallFCLOpt.name
        public var parametrization: Parametrization = .mup
        public var stepMult: Float = LOConfig.defaultStepMult(.mup)
        public var expMult: Float = 0.001
        /// small_fc_lopt's MLP width.
        public var hiddenSize: Int = 32
        /// VeLO's LSTM size H and bank size P (the μVeLO preset's by default).
        public var lstmHidden: Int = VeLOConfig.muVeLO.lstmHidden
        public var paramInits: Int = VeLOConfig.muVeLO.paramInits
        /// VeLO's bank factor and RMS(p) factor; nil: the parametrization's (μ: 1 and off, SP: 100 and on).
        public var interpMult: Float?
        public var paramScaleMult: Bool?
        /// VeLO: θ's start where it departs from the reference init (1, 0, 0; see `VeLOConfig.bankInitGain`).
        public var bankInitGain: Float = 1
        public var descentBank = false
        public var initControls: Float = 0
        public var initLRMult: Float = 0
        public var initSeed: UInt64 = 0
        public var initCheckpoint: String?
        public init() {}

        public static func defaultStepMult(architecture: String, _ p: Parametrization) -> Float {
            architecture == VeLO.name ? 0.001 : LOConfig.defaultStepMult(p)
        }

        public var loConfig: LOConfig {
            LOConfig(parametrization: parametrization, stepMult: stepMult, expMult: expMult, hiddenSize: hiddenSize)
        }

        public var veloConfig: VeLOConfig {
            var c = VeLOConfig(parametrization: parametrization, lstmHidden: lstmHidden, paramInits: paramInits,
                               interpMult: interpMult ?? (parametrization == .mup ? 1 : 100),
                               paramScaleMult: paramScaleMult ?? (parametrization == .standard), stepMult: stepMult, expMult: expMult)
            (c.bankInitGain, c.descentBank, c.initControls, c.initLRMult) = (bankInitGain, descentBank, initControls, initLRMult)
            return c
        }
    }

    public enum Estimator: String, Codable, Sendable { case pes, es }

    /// The gradient estimator and the episodes it truncates (METHOD §4.1–4.3).
    public struct EstimatorSettings: Codable, Sendable, Equatable {
        public var kind: Estimator = .pes
        public var pairs: Int = 8
        public var sigma: Float = 0.01
        public var truncation: Int = 50
        public var episodeMin: Int = 100
        public var episodeMax: Int = 1000
        public var initialOffsetMax: Int = 50
        public init() {}
    }

    /// AdamW on θ with a clipped update and a warmup-cosine learning rate (METHOD §4.5).
    public struct OuterOptimizerSettings: Codable, Sendable, Equatable {
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
        public init() {}

        public var schedule: Schedule {
            .warmupCosine(initial: lrInitial, peak: lrPeak, final: lrFinal, warmupSteps: warmupSteps, decayEnd: decayEnd)
        }
    }

    /// How often checkpoints are written and how many are kept (not part of the experiment's identity).
    public struct CheckpointSettings: Codable, Sendable, Equatable {
        public var interval: Int = 50
        public var keep: Int = 10
        /// Also keep every checkpoint whose outer step is a multiple of this (0: none), so a long
        /// run can be restarted from before a late instability.
        public var keepEvery: Int = 0
        public init() {}

        enum CodingKeys: String, CodingKey { case interval, keep, keepEvery }

        // Configurations stored before keepEvery existed decode with its default.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            (interval, keep) = (try c.decode(Int.self, forKey: .interval), try c.decode(Int.self, forKey: .keep))
            keepEvery = try c.decodeIfPresent(Int.self, forKey: .keepEvery) ?? 0
        }
    }

    public var name: String
    public var seed: UInt64 = 0
    public var outerSteps: Int = 5000
    public var families: [Family] = []
    public var learnedOptimizer = LearnedOptimizerSettings()
    public var estimator = EstimatorSettings()
    public var outerOptimizer = OuterOptimizerSettings()
    public var checkpoint = CheckpointSettings()

    public init(name: String) { self.name = name }

    public var loConfig: LOConfig { learnedOptimizer.loConfig }
    public var parametrization: Parametrization { learnedOptimizer.parametrization }

    public var taskNames: [String] { families.flatMap(\.taskNames) }
    public var batchSizes: [Int] { families.flatMap { f in f.widths.map { _ in f.batchSize } } }

    /// The configuration as stored in checkpoints and θ files: the TOML's sections and snake_case
    /// keys, numbers as JSON numbers.
    public var json: String {
        let e = JSONEncoder.sorted
        e.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }

    /// `outer_steps` of a stored configuration, whichever release wrote it (the first stored
    /// flat camelCase keys, `outerSteps`).
    public static func storedOuterSteps(_ json: String) -> Int? {
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        return ((object?["outer_steps"] ?? object?["outerSteps"]) as? NSNumber)?.intValue
    }

    /// Every difference from the paper's μLO_M setting (METHOD §4.6), as readable lines.
    public var departures: [String] {
        let paper = MetaConfig(name: "paper")
        let (lo, es, oo) = (learnedOptimizer, estimator, outerOptimizer)
        let (plo, pes, poo) = (paper.learnedOptimizer, paper.estimator, paper.outerOptimizer)
        var out: [String] = []
        func check<T: Equatable>(_ label: String, _ ours: T, _ theirs: T) {
            if ours != theirs { out.append("\(label): \(ours) (paper: \(theirs))") }
        }
        let paperTasks = ["mumlp-w1024-d3_imagenet-32x32x3", "mumlp-w512-d3_imagenet-32x32x3", "mumlp-w128-d3_imagenet-32x32x3"]
        let ours = parametrization == .mup ? taskNames : taskNames.map { "mu" + $0 }
        if Set(ours) != Set(paperTasks) { out.append("tasks: \(taskNames.joined(separator: ", ")) (paper: \(paperTasks.joined(separator: ", ")) or their SP twins)") }
        if batchSizes.contains(where: { $0 != 4096 }) { out.append("inner batch: \(batchSizes.map(String.init).joined(separator: ", ")) (paper: 4096)") }
        check("step_mult", lo.stepMult, LearnedOptimizerSettings.defaultStepMult(architecture: lo.architecture, parametrization))
        check("exp_mult", lo.expMult, plo.expMult)
        if lo.architecture == VeLO.name {
            // The paper's μVeLO_M: the μ config's sizes (VELO §0), truncation 20, 45,000 outer steps.
            let preset = parametrization == .mup ? VeLOConfig.muVeLO : VeLOConfig.velo4000
            check("lstm_hidden_size, param_inits", "\(lo.lstmHidden), \(lo.paramInits)", "\(preset.lstmHidden), \(preset.paramInits)")
            check("interp_mult", lo.veloConfig.interpMult, preset.interpMult)
            check("param_scale_mult", lo.veloConfig.paramScaleMult, preset.paramScaleMult)
            check("MLP bank init gain", lo.bankInitGain, 1)
            check("descent path in the MLP bank", lo.descentBank, false)
            check("initial controls bias", lo.initControls, 0)
            check("initial lr-multiplier bias", lo.initLRMult, 0)
        } else {
            check("hidden_size", lo.hiddenSize, plo.hiddenSize)
        }
        check("estimator", es.kind.rawValue, pes.kind.rawValue)
        check("pairs", es.pairs, pes.pairs)
        check("sigma", es.sigma, pes.sigma)
        check("truncation", es.truncation, lo.architecture == VeLO.name ? 20 : pes.truncation)
        check("episode length", "[\(es.episodeMin), \(es.episodeMax))", "[\(pes.episodeMin), \(pes.episodeMax))")
        check("initial offset", "[0, \(es.initialOffsetMax))", "[0, \(pes.initialOffsetMax))")
        check("AdamW (β1, β2, ε, weight decay)", "\(oo.beta1), \(oo.beta2), \(oo.epsilon), \(oo.weightDecay)",
              "\(poo.beta1), \(poo.beta2), \(poo.epsilon), \(poo.weightDecay)")
        check("update clip", oo.updateClip, poo.updateClip)
        check("learning-rate schedule", "\(oo.lrInitial)→\(oo.lrPeak) over \(oo.warmupSteps), cosine to \(oo.lrFinal) at \(oo.decayEnd)",
              "\(poo.lrInitial)→\(poo.lrPeak) over \(poo.warmupSteps), cosine to \(poo.lrFinal) at \(poo.decayEnd)")
        check("outer steps", outerSteps, lo.architecture == VeLO.name ? 45_000 : paper.outerSteps)
        if let start = lo.initCheckpoint { out.append("θ's start: the θ in \(start), outer optimizer and schedule afresh (paper: a fresh initialisation)") }
        return out
    }

    /// Checks every value; the message names the field.
    public func validate() throws {
        func fail(_ m: String) -> MetaConfigError { MetaConfigError("\(name): \(m)") }
        let (lo, es, oo) = (learnedOptimizer, estimator, outerOptimizer)
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
        if let task = taskNames.firstRepeated { throw fail("the task \(task) appears twice") }
        guard es.sigma > 0, es.sigma.isFinite else { throw fail("estimator.sigma must be > 0, got \(es.sigma)") }
        guard es.pairs >= 1 else { throw fail("estimator.pairs must be ≥ 1") }
        guard es.truncation >= 1 else { throw fail("estimator.truncation must be ≥ 1") }
        guard es.episodeMin >= 1, es.episodeMax > es.episodeMin else { throw fail("episode lengths need 1 ≤ episode_min < episode_max") }
        guard es.initialOffsetMax >= 1 else { throw fail("initial_offset_max must be ≥ 1") }
        guard outerSteps >= 1 else { throw fail("outer_steps must be ≥ 1") }
        guard lo.hiddenSize >= 1, lo.stepMult > 0, lo.expMult >= 0 else { throw fail("hidden_size, step_mult must be positive") }
        guard [SmallFCLOpt.name, VeLO.name].contains(lo.architecture) else {
            throw fail("learned_optimizer.architecture '\(lo.architecture)' is neither small_fc_lopt nor velo")
        }
        // The architecture's own limits (small_fc_lopt: hidden 1…4096, decays in (0, 1); VeLO: H, P 1…4096).
        do {
            if lo.architecture == VeLO.name { try lo.veloConfig.validate() } else { try lo.loConfig.validate() }
        } catch let e as LOError { throw fail(e.message) }
        // TOML reads nan and inf, which slip through the comparisons below (inf > 0) and would reach
        // the outer optimizer and the checkpoints' JSON.
        let reals = [("beta1", oo.beta1), ("beta2", oo.beta2), ("epsilon", oo.epsilon), ("weight_decay", oo.weightDecay),
                     ("update_clip", oo.updateClip), ("lr_initial", oo.lrInitial), ("lr_peak", oo.lrPeak), ("lr_final", oo.lrFinal)]
        if let (key, value) = reals.first(where: { !$0.1.isFinite }) { throw fail("outer_optimizer.\(key) must be finite, got \(value)") }
        guard (0..<1).contains(oo.beta1), (0..<1).contains(oo.beta2), oo.epsilon > 0, oo.weightDecay >= 0, oo.updateClip > 0 else {
            throw fail("outer optimizer needs β in [0, 1), ε > 0, weight_decay ≥ 0, update_clip > 0")
        }
        guard oo.lrPeak > 0, oo.lrInitial >= 0, oo.lrFinal >= 0, oo.warmupSteps >= 0, oo.decayEnd >= oo.warmupSteps else {
            throw fail("learning rates must be ≥ 0 (peak > 0) and decay_end ≥ warmup_steps")
        }
        guard checkpoint.interval >= 1, checkpoint.keep >= 1 else { throw fail("checkpoint interval and keep must be ≥ 1") }
        guard checkpoint.keepEvery >= 0 else { throw fail("checkpoint keep_every must be ≥ 0") }
    }
}
