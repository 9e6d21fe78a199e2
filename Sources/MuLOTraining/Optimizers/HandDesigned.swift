/// The hand-designed optimizers by name, as the command line and evaluation name them.
public enum HandDesigned: String, Sendable, CaseIterable, Codable {
    case sgd, adam, adamw, muadam

    public struct Settings: Sendable, Equatable, Codable {
        public var learningRate: Float = 1e-3
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var weightDecay: Float = 1e-4
        public var momentum: Float = 0
        /// 0 = constant learning rate; otherwise warmup steps of a warmup-cosine schedule to 0.1·η.
        public var warmupSteps: Int = 0
        public var cosine: Bool = false
        public var totalSteps: Int = 1000
        public init() {}

        public var schedule: Schedule {
            cosine ? .baseline(peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps)
                : .constant(learningRate)
        }

        /// What makes these settings unusable, nil if nothing: flags, grid files and tuning caches
        /// all pass through it, so an edited cache cannot hand an evaluation a negative rate or β1 = 5.
        public var problem: String? {
            guard learningRate.isFinite, learningRate > 0 else { return "the learning rate must be a positive number, not \(learningRate)" }
            guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { return "β1 and β2 must be in [0, 1), not \(beta1) and \(beta2)" }
            guard weightDecay.isFinite, weightDecay >= 0 else { return "the weight decay must be ≥ 0, not \(weightDecay)" }
            guard (0..<1).contains(momentum) else { return "the momentum must be in [0, 1), not \(momentum)" }
            guard totalSteps >= 1, (0...totalSteps).contains(warmupSteps) else { return "the warmup must be in 0…\(totalSteps) steps, not \(warmupSteps)" }
            return nil
        }
    }

    /// How tables and plots name it.
    public var label: String {
        switch self {
        case .sgd: "SGD"
        case .adam: "Adam"
        case .adamw: "AdamW"
        case .muadam: "μAdam"
        }
    }

    /// The parametrization of the tasks it trains: μAdam the μP ones (its s_W needs them), the others SP.
    public var parametrization: Parametrization { self == .muadam ? .mup : .standard }

    public func make(_ s: Settings) -> any Optimizer {
        switch self {
        case .sgd: SGD(schedule: s.schedule, momentum: s.momentum)
        case .adam: Adam(schedule: s.schedule, beta1: s.beta1, beta2: s.beta2)
        case .adamw: Adam.adamW(schedule: s.schedule, beta1: s.beta1, beta2: s.beta2, weightDecay: s.weightDecay)
        case .muadam: Adam.muAdam(schedule: s.schedule, beta1: s.beta1, beta2: s.beta2)
        }
    }

    /// The settings that matter for this optimizer, for run records.
    public func describe(_ s: Settings) -> [String: String] {
        var d = ["lr": "\(s.learningRate)", "schedule": s.cosine ? "warmup-cosine(\(s.warmupSteps), \(s.totalSteps))" : "constant"]
        switch self {
        case .sgd: d["momentum"] = "\(s.momentum)"
        case .adam, .muadam: (d["beta1"], d["beta2"]) = ("\(s.beta1)", "\(s.beta2)")
        case .adamw: (d["beta1"], d["beta2"], d["weight_decay"]) = ("\(s.beta1)", "\(s.beta2)", "\(s.weightDecay)")
        }
        return d
    }
}
