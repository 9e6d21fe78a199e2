import Foundation

/// One antithetic pair (METHOD §1): a positive copy run with θ + ε, a negative one with θ − ε,
/// and the PES accumulator ξ. Both copies share batches and keys, hence initialisations and
/// episode boundaries, so the episode counters are kept once.
public struct Particle: Sendable, Equatable {
    public struct Copy: Sendable, Equatable {
        public var params: [Tensor]
        public var lo: LOState
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
    public init(task: any Task, key: RNGKey, config: MetaConfig, thetaCount: Int) {
        let params = task.initialize(key: key.split(0))
        let lo = LOState(shapes: params.map(\.shape))
        pos = Copy(params: params, lo: lo)
        neg = pos
        episodeStep = key.split(1).integer(below: config.initialOffsetMax, at: 0)
        episodeLength = Self.episodeLength(key.split(2), config)
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
    static func episodeLength(_ key: RNGKey, _ c: MetaConfig) -> Int {
        let u = log(Double(c.episodeMin)) + (log(Double(c.episodeMax)) - log(Double(c.episodeMin))) * key.uniformDouble(at: 0)
        return min(max(Int(exp(u).rounded(.down)), c.episodeMin), c.episodeMax - 1)
    }

    /// One inner step of both copies (METHOD §4.2) with the batch and keys drawn from `key`.
    /// Returns the normalised losses, whether the episode ended on this step, and the mask.
    mutating func innerStep(task: any Task, plus: LearnedOptimizer, minus: LearnedOptimizer, key: RNGKey,
                            config: MetaConfig, work: inout InnerWork) throws -> (Float, Float, Bool, Bool) {
        if isDone {
            // Reset: new optimizee from the key, zero LO state, e = 0; loss 0 with mask 0.
            let params = task.initialize(key: key.split(1))
            pos = Copy(params: params, lo: LOState(shapes: params.map(\.shape)))
            neg = pos
            episodeStep = 0
            isDone = false
            return (0, 0, false, false)
        }
        try task.dataset.sampleBatch(.train, size: work.batchSize, key: key.split(0), into: &work.batch)
        let scales = work.scales
        let lp = task.lossAndGradient(pos.params, batch: work.batch, grads: &work.grads, workspace: work.workspace)
        plus.update(&pos.params, grads: work.grads, scales: scales, state: &pos.lo)
        let ln = task.lossAndGradient(neg.params, batch: work.batch, grads: &work.grads, workspace: work.workspace)
        minus.update(&neg.params, grads: work.grads, scales: scales, state: &neg.lo)
        episodeStep += 1
        isDone = episodeStep >= episodeLength
        if isDone { episodeLength = Self.episodeLength(key.split(2), config) }
        return (task.normalizedLoss(lp), task.normalizedLoss(ln), isDone, true)
    }
}

/// Buffers one worker reuses across the inner steps of one family.
struct InnerWork {
    let batchSize: Int
    var batch = Batch()
    var grads: [Tensor]
    let workspace: TaskWorkspace
    let scales: [Float]

    init(task: any Task, batchSize: Int) {
        self.batchSize = batchSize
        grads = task.zeroGradients()
        workspace = task.makeWorkspace(batchSize: batchSize)
        scales = task.updateScales
    }
}
