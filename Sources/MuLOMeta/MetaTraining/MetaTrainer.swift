import Dispatch
import Foundation

/// Per-outer-step metrics, kept whole in every checkpoint so a resumed run continues them.
public struct MetaMetrics: Sendable, Equatable {
    public var outerStep: [Int64] = []
    public var metaLoss: [Float] = []
    /// [family][step]
    public var familyLoss: [[Float]]
    public var learningRate: [Float] = []
    public var updateNorm: [Float] = []
    /// Seconds of meta-training so far (summed over resumed runs) and throughput: not reproducible.
    public var wallTime: [Double] = []
    public var innerStepsPerSecond: [Float] = []
    /// The CPUs that ran the steps, in order of first appearance (wall times mean something only with them).
    public var cpuModels: [String] = []
    /// The θ file the run started from (`init_checkpoint`, its file name) and how many outer steps
    /// of meta-training that θ had had (nil: not a MuLO meta-training θ), so a continued run's
    /// budget states them.
    public var initTheta: String?
    public var initOuterSteps: Int?
    /// [family][step]: the fraction of the family's counted inner losses (all particles, both
    /// copies) at the clip bound 1.5·ln C — diverged or non-finite inner runs. NaN for steps of runs
    /// from before it was recorded.
    public var familyAtBound: [[Float]]
    /// The outer steps at which the run went on from a restart point (`MetaCheckpoint.restartFile`:
    /// θ and the outer optimizer kept, every particle started afresh).
    public var particleRestarts: [Int] = []

    public init(families: Int) {
        familyLoss = .init(repeating: [], count: families)
        familyAtBound = familyLoss
    }

    /// The fraction at the bound over all families at the last step.
    public var lastAtBound: Float? {
        familyAtBound.first?.isEmpty == false ? familyAtBound.map { $0.last! }.reduce(0, +) / Float(familyAtBound.count) : nil
    }

    /// The reproducible part, for comparisons.
    public var deterministic: [[Float]] { [outerStep.map(Float.init), metaLoss, learningRate, updateNorm] + familyLoss + familyAtBound }
}

/// Everything a bit-exact resume needs. Random numbers are pure functions of (seed, outer step,
/// family, particle, inner step), so no generator state beyond the outer step is kept.
public struct MetaState<A: LearnedOptimizerArchitecture>: Sendable, Equatable {
    public var theta: MetaParameters
    public var adam: OuterAdamW
    public var outerStep: Int
    /// [family][particle]
    public var particles: [[Particle<A.Inner.State>]]
    public var metrics: MetaMetrics
}

/// Meta-training with PES or ES (METHOD §4): all families every outer step, equal-weight mean of
/// the family gradients, AdamW with a clipped update. (family, particle) units run on `threads`
/// workers, each with single-threaded BLAS; results are reduced in a fixed order, so θ is
/// bit-identical for any thread count.
/// Generic over the learned-optimizer architecture being meta-trained.
/// Workers only read `config`, `tasks` and `state.theta` while units run; each unit owns its particle slot.
public final class MetaTrainer<A: LearnedOptimizerArchitecture>: @unchecked Sendable {
    public let config: MetaConfig
    public let architecture: A
    public let tasks: [any Task]
    public var state: MetaState<A>
    public var threads: Int
    /// Under MPI, this rank advances only the units u with u % size == rank and the ranks
    /// exchange their estimates; particle states are gathered on rank 0 for checkpoints.
    public var mpi: MPIContext?

    /// What the metrics record for a non-finite meta-loss.
    public static var loggedLossForNonFinite: Float { 20 }

    public init(config: MetaConfig, architecture: A, dataDir: String? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, initialTheta: MetaParameters? = nil) throws {
        try config.validate()
        self.config = config
        self.architecture = architecture
        self.threads = max(1, threads)
        tasks = try config.taskNames.map { try TaskRegistry.makeTask($0, dataDir: dataDir) }
        // Every family keeps 2 × pairs particles, each with at least its parameters and as many floats of LO state.
        let particleFloats = tasks.reduce(0.0) { $0 + 2 * Double($1.parameterCount) } * Double(2 * config.estimator.pairs)
        try MemoryBudget.check(4 * particleFloats, "PES with \(config.estimator.pairs) antithetic pairs on \(tasks.count) tasks")
        for (task, batch) in zip(tasks, config.batchSizes) where batch > (try task.data.count(.train)) {
            throw MetaConfigError("\(config.name): batch \(batch) is larger than the training split of \(task.name)")
        }
        let theta = initialTheta ?? architecture.initialTheta(key: RNGKey(seed: config.learnedOptimizer.initSeed))
        guard theta.tensors.map(\.shape) == architecture.thetaShapes else {
            throw MetaConfigError("\(config.name): initial θ has shapes \(theta.tensors.map(\.shape)), the config's \(A.name) needs \(architecture.thetaShapes)")
        }
        state = MetaState(theta: theta, adam: OuterAdamW(size: theta.count), outerStep: 0, particles: [],
                          metrics: MetaMetrics(families: tasks.count))
        state.particles = freshParticles(key: RNGKey(seed: config.seed).split(2))
    }

    /// Every family's particles as a run starts them — fresh optimizees, zero LO state, random
    /// initial offsets, ξ = 0 — drawn from `key`.
    func freshParticles(key: RNGKey) -> [[Particle<A.Inner.State>]] {
        let optimizer = architecture.makeOptimizer(theta: state.theta)
        return tasks.enumerated().map { f, task in
            (0..<config.estimator.pairs).map { i in
                Particle(task: task, optimizer: optimizer, key: key.split(UInt64(f)).split(UInt64(i)), config: config,
                         thetaCount: state.theta.count)
            }
        }
    }

    /// Goes on from a restart point: new particles at the current outer step, from keys of their
    /// own (seed, 3, step), so the run stays a function of its configuration, seed and restarts.
    func restartParticles() {
        state.particles = freshParticles(key: RNGKey(seed: config.seed).split(3).split(UInt64(state.outerStep)))
        state.metrics.particleRestarts.append(state.outerStep)
    }

    /// Inner steps per outer step: two copies × K steps for every particle of every family.
    public var innerStepsPerOuterStep: Int { tasks.count * config.estimator.pairs * 2 * config.estimator.truncation }

    var unitCount: Int { tasks.count * config.estimator.pairs }

    func owns(_ unit: Int) -> Bool { mpi.map { unit % $0.size == $0.rank } ?? true }

    /// Brings every particle's state to rank 0 (a no-op without MPI); call on all ranks.
    public func gatherParticles() throws {
        guard let mpi, mpi.size > 1 else { return }
        var w = ByteWriter()
        for u in 0..<unitCount where owns(u) {
            state.particles[u / config.estimator.pairs][u % config.estimator.pairs].encode(into: &w)
        }
        let parts = try mpi.gatherToRoot(w.bytes)
        guard mpi.isRoot else { return }
        for r in 1..<mpi.size {
            var reader = ByteReader(parts[r])
            for u in stride(from: r, to: unitCount, by: mpi.size) {
                state.particles[u / config.estimator.pairs][u % config.estimator.pairs].decode(&reader)
            }
        }
    }

    /// One outer step: every particle advances K inner steps, then θ takes one AdamW step.
    @discardableResult
    public func outerStep() throws -> (metaLoss: Float, familyLoss: [Float]) {
        let start = Date()
        let s = state.outerStep
        let units = tasks.indices.flatMap { f in (0..<config.estimator.pairs).map { (f, $0) } }
        let thetaFlat = state.theta.flat
        let root = RNGKey(seed: config.seed).split(1).split(UInt64(s))

        // Move the particles into a buffer each unit owns one slot of, so nothing is copied.
        let slots = UnsafeMutablePointer<Particle<A.Inner.State>>.allocate(capacity: units.count)
        slots.initialize(from: state.particles.flatMap { $0 }, count: units.count)
        state.particles = []
        let estimates = UnsafeMutablePointer<GradientEstimator.Estimate?>.allocate(capacity: units.count)
        estimates.initialize(repeating: nil, count: units.count)
        defer {
            state.particles = tasks.indices.map { f in (0..<config.estimator.pairs).map { slots[f * config.estimator.pairs + $0] } }
            slots.deinitialize(count: units.count)
            slots.deallocate()
            estimates.deinitialize(count: units.count)
            estimates.deallocate()
        }
        let owned = units.indices.filter(owns)
        let shared = UncheckedBox((slots, estimates))
        try withSingleThreadedKernels {
            try runJobs(owned.count, threads: threads) { k in
                let u = owned[k]
                let (f, i) = units[u]
                shared.value.1[u] = try self.runUnit(f: f, i: i, particle: &shared.value.0[u], theta: thetaFlat,
                                                     key: root.split(UInt64(f)).split(UInt64(i)))
            }
        }
        if let mpi, mpi.size > 1 {
            // Exchange the estimates as bytes: every rank then reduces the same values in the same order.
            var w = ByteWriter()
            for u in owned { estimates[u]!.encode(into: &w) }
            let parts = try mpi.allGather(w.bytes)
            for r in 0..<mpi.size where r != mpi.rank {
                var reader = ByteReader(parts[r])
                for u in stride(from: r, to: units.count, by: mpi.size) { estimates[u] = .decode(&reader) }
            }
        }

        // Fixed-order reduction: particles within a family, then families.
        var gradient = [Float](repeating: 0, count: thetaFlat.count)
        var familyLoss = [Float](repeating: 0, count: tasks.count)
        var familyAtBound = familyLoss
        for f in tasks.indices {
            var familyGrad = [Float](repeating: 0, count: thetaFlat.count)
            for i in 0..<config.estimator.pairs {
                let e = estimates[f * config.estimator.pairs + i]!
                for j in familyGrad.indices { familyGrad[j] += e.gradient[j] }
                familyLoss[f] += e.loss
                familyAtBound[f] += e.atBound
            }
            familyLoss[f] /= Float(config.estimator.pairs)
            familyAtBound[f] /= Float(config.estimator.pairs)
            for j in gradient.indices { gradient[j] += familyGrad[j] / Float(config.estimator.pairs) }
        }
        for j in gradient.indices {
            gradient[j] /= Float(tasks.count)
            if !gradient[j].isFinite { gradient[j] = 0 }
        }
        var theta = thetaFlat
        let (lr, norm) = state.adam.step(&theta, gradient: gradient, config: config.outerOptimizer)
        state.theta.flat = theta
        state.outerStep += 1

        let metaLoss = familyLoss.reduce(0, +) / Float(tasks.count)
        let seconds = Date().timeIntervalSince(start)
        var m = state.metrics
        m.outerStep.append(Int64(state.outerStep))
        m.metaLoss.append(metaLoss.isFinite ? metaLoss : Self.loggedLossForNonFinite)
        for f in tasks.indices {
            m.familyLoss[f].append(familyLoss[f].isFinite ? familyLoss[f] : Self.loggedLossForNonFinite)
            m.familyAtBound[f].append(familyAtBound[f])
        }
        m.learningRate.append(lr)
        m.updateNorm.append(norm)
        m.wallTime.append((m.wallTime.last ?? 0) + seconds)
        if !m.cpuModels.contains(HostCPU.current.model) { m.cpuModels.append(HostCPU.current.model) }
        m.innerStepsPerSecond.append(Float(Double(innerStepsPerOuterStep) / seconds))
        state.metrics = m
        return (metaLoss, familyLoss)
    }

    /// One particle's truncation: ε, K inner steps of both copies, its gradient estimate.
    private func runUnit(f: Int, i: Int, particle: inout Particle<A.Inner.State>, theta: [Float],
                         key: RNGKey) throws -> GradientEstimator.Estimate {
        var eps = [Float](repeating: 0, count: theta.count)
        key.split(0).fillNormal(&eps, std: config.estimator.sigma)
        var plus = state.theta, minus = state.theta
        plus.flat = zip(theta, eps).map { $0 + $1 }
        minus.flat = zip(theta, eps).map { $0 - $1 }
        let (opPlus, opMinus) = (architecture.makeOptimizer(theta: plus), architecture.makeOptimizer(theta: minus))
        let task = tasks[f]
        var inner = InnerStep(task: task, batchSize: config.batchSizes[f])
        var record = TruncationRecord()
        for k in 0..<config.estimator.truncation {
            let (lp, ln, done, mask) = try particle.innerStep(task: task, plus: opPlus, minus: opMinus,
                                                              key: key.split(1 + UInt64(k)), config: config, inner: &inner)
            record.append(pos: lp, neg: ln, done: done, mask: mask)
        }
        var estimate = GradientEstimator.estimate(record, epsilon: eps, xi: &particle.xi, sigma: config.estimator.sigma,
                                                  kind: config.estimator.kind)
        estimate.atBound = record.fractionAtBound(task.lossClipBound)
        return estimate
    }
}

extension MetaTrainer where A == SmallFCLOpt {
    /// Meta-trains small_fc_lopt with the configuration's learned-optimizer settings.
    public convenience init(config: MetaConfig, dataDir: String? = nil,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount, initialTheta: LOTheta? = nil) throws {
        try self.init(config: config, architecture: SmallFCLOpt(config.loConfig), dataDir: dataDir, threads: threads,
                      initialTheta: initialTheta?.parameters)
    }
}
