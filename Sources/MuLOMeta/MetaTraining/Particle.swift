import Foundation

/// One antithetic pair (METHOD §1): a positive copy run with θ + ε, a negative one with θ − ε,
/// and the PES accumulator ξ. Both copies share batches and keys, hence initialisations and
/// episode boundaries, so the episode counters are kept once.
public struct Particle<State: LearnedOptimizerState>: Sendable, Equatable {
    public struct Copy: Sendable, Equatable {
        public var params: [Tensor]
        public var lo: State
    }

    public var pos: Copy
    public var neg: Copy
    /// Training steps taken in the current episode (e).
    public var episodeStep: Int
    /// The current episode's length T_ep.
    public var episodeLength: Int
    public var isDone: Bool
    public var xi: [Float]

    /// A particle at the start of meta-training: fresh optimizee, zero LO state, a random
    /// initial offset e ∈ [0, offsetMax) (which does not touch t), ξ = 0.
    public init<O: Optimizer>(task: any Task, optimizer: O, key: RNGKey, config: MetaConfig, thetaCount: Int)
    where O.State == State {
        let params = task.initialize(key: key.split(0))
        pos = Copy(params: params, lo: optimizer.initialState(for: params))
        neg = pos
        episodeStep = key.split(1).integer(below: config.estimator.initialOffsetMax, at: 0)
        episodeLength = Self.episodeLength(key.split(2), config.estimator)
        isDone = false
        xi = .init(repeating: 0, count: thetaCount)
    }

    public init(pos: Copy, neg: Copy, episodeStep: Int, episodeLength: Int, isDone: Bool, xi: [Float]) {
        self.pos = pos
        self.neg = neg
        self.episodeStep = episodeStep
        self.episodeLength = episodeLength
        self.isDone = isDone
        self.xi = xi
    }

    /// floor(exp(u)), u ~ U(ln min, ln max): log-uniform in [min, max).
    static func episodeLength(_ key: RNGKey, _ c: MetaConfig.EstimatorSettings) -> Int {
        let u = log(Double(c.episodeMin)) + (log(Double(c.episodeMax)) - log(Double(c.episodeMin))) * key.uniformDouble(at: 0)
        return min(max(Int(exp(u).rounded(.down)), c.episodeMin), c.episodeMax - 1)
    }

    /// One inner step of both copies (METHOD §4.2) with the batch and keys drawn from `key`.
    /// Returns the normalised losses, whether the episode ended on this step, and the mask.
    mutating func innerStep<O: Optimizer>(task: any Task, plus: O, minus: O, key: RNGKey, config: MetaConfig,
                                          inner: inout InnerStep) throws -> (Float, Float, Bool, Bool) where O.State == State {
        if isDone {
            // Reset: new optimizee from the key, fresh LO state, e = 0; loss 0 with mask 0.
            let params = task.initialize(key: key.split(1))
            pos = Copy(params: params, lo: plus.initialState(for: params))
            neg = pos
            episodeStep = 0
            isDone = false
            return (0, 0, false, false)
        }
        try inner.sample(key: key.split(0))
        let lp = inner.lossAndGradient(at: pos.params)
        inner.update(&pos.params, with: plus, state: &pos.lo,
                     context: StepContext(step: episodeStep, totalSteps: episodeLength, loss: lp))
        let ln = inner.lossAndGradient(at: neg.params)
        inner.update(&neg.params, with: minus, state: &neg.lo,
                     context: StepContext(step: episodeStep, totalSteps: episodeLength, loss: ln))
        episodeStep += 1
        isDone = episodeStep >= episodeLength
        if isDone { episodeLength = Self.episodeLength(key.split(2), config.estimator) }
        return (task.normalizedLoss(lp), task.normalizedLoss(ln), isDone, true)
    }
}
