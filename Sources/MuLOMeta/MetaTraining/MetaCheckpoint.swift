import Foundation

/// Meta-training checkpoints (METHOD §7.5) in a run directory:
///   checkpoint-<step>.h5   full state, written atomically, the newest k kept
///   latest                 the newest checkpoint's file name (written atomically)
///   theta.h5               θ alone, for evaluation and export
///   restart.h5             the newest checkpoint without its particles (a restart point): small
///                          enough to keep where a run directory is not kept (a machine that may be
///                          lost); `--resume` from it keeps θ, the outer optimizer and the schedule
///                          and starts every particle afresh, which the metrics record
/// A checkpoint holds θ under the reference names, the outer AdamW moments and count, the
/// outer step (which with the seed fixes every random number), for each family and particle
/// both copies' parameters and LO state, e, T_ep, isDone and ξ, the metrics so far, and the
/// configuration as JSON with its departures from the paper.
public enum MetaCheckpoint {
    public static let kind = "mulo-meta-checkpoint"

    public static func fileName(step: Int) -> String { String(format: "checkpoint-%06d.h5", step) }
    public static let restartFile = "restart.h5"

    /// A checkpoint, or with `particles: false` a restart point.
    public static func save<A>(_ trainer: MetaTrainer<A>, to path: String, particles: Bool = true) throws {
        let s = trainer.state, c = trainer.config
        let file = try HDF5File.create(path)
        try file.setAttribute("kind", kind)
        try file.setAttribute("config", c.json)
        try file.setAttribute("config_identity", c.identity)
        try file.setAttribute("departures_from_paper", c.departures)
        try file.setAttribute("outer_step", s.outerStep)
        try file.setAttribute("seed", Int(c.seed))
        if !particles { try file.setAttribute("restart_point", 1) }
        try LOCheckpoint.writeTheta(s.theta, of: trainer.architecture, to: file)
        try file.write("outer_optimizer/m", shape: [s.adam.m.count], s.adam.m)
        try file.write("outer_optimizer/v", shape: [s.adam.v.count], s.adam.v)
        try file.setAttribute("count", s.adam.count, on: "outer_optimizer")
        for (f, task) in trainer.tasks.enumerated() {
            let g = "families/\(f)"
            try file.setAttribute("task", task.name, on: g)
            for (i, p) in s.particles[f].enumerated() where particles {
                let pg = "\(g)/particles/\(i)"
                try file.setAttribute("episode_step", p.episodeStep, on: pg)
                try file.setAttribute("episode_length", p.episodeLength, on: pg)
                try file.setAttribute("is_done", p.isDone ? 1 : 0, on: pg)
                try file.write("\(pg)/xi", shape: [p.xi.count], p.xi)
                for (name, copy) in [("pos", p.pos), ("neg", p.neg)] {
                    try file.writeOptimization(params: copy.params, state: copy.lo, specs: task.parameterSpecs, group: "\(pg)/\(name)", stateGroup: "lo")
                }
            }
        }
        try writeMetrics(s.metrics, tasks: trainer.tasks, to: file)
        try file.commit()
    }

    static func writeMetrics(_ m: MetaMetrics, tasks: [any Task], to file: HDF5File) throws {
        func series<T: HDF5Element>(_ name: String, _ values: [T]) throws {
            try file.createExtendible("metrics/\(name)", of: T.self)
            try file.append("metrics/\(name)", values)
        }
        try series("outer_step", m.outerStep)
        try series("meta_loss", m.metaLoss)
        try series("learning_rate", m.learningRate)
        try series("update_norm", m.updateNorm)
        try series("wall_time_s", m.wallTime)
        try series("inner_steps_per_s", m.innerStepsPerSecond)
        if !m.cpuModels.isEmpty { try file.setAttribute("cpu_models", m.cpuModels, on: "metrics") }
        if let t = m.initTheta { try file.setAttribute("init_theta", t, on: "metrics") }
        if let n = m.initOuterSteps { try file.setAttribute("init_outer_steps", n, on: "metrics") }
        if !m.particleRestarts.isEmpty { try file.setAttribute("particle_restarts", m.particleRestarts, on: "metrics") }
        for (f, task) in tasks.enumerated() {
            try series("family_loss/\(task.name)", m.familyLoss[f])
            try series("family_at_bound/\(task.name)", m.familyAtBound[f])
        }
    }

    /// Restores `trainer.state` from a checkpoint written under the same experiment identity; from
    /// a restart point (no particles), with fresh particles (`MetaTrainer.restartParticles`).
    /// Returns whether it was a restart point.
    @discardableResult
    public static func restore<A>(_ trainer: MetaTrainer<A>, from path: String) throws -> Bool {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard (try? file.attributeString("kind")) == kind else {
            throw MetaConfigError("\(path) is not a MuLO meta-training checkpoint")
        }
        let identity = try file.attributeString("config_identity")
        guard identity == trainer.config.identity else {
            let stored = (try? file.attributeString("config")) ?? "?"
            throw MetaConfigError("""
                \(path) was written by a different configuration; refusing to resume it with \(trainer.config.name). \
                Checkpoint configuration: \(stored)
                """)
        }
        var s = trainer.state
        s.theta = try LOCheckpoint.readTheta(file, of: trainer.architecture)
        let n = s.theta.count
        let optimizer = trainer.architecture.makeOptimizer(theta: s.theta)
        s.adam.m = try file.read("outer_optimizer/m", as: Float.self, expectShape: [n]).values
        s.adam.v = try file.read("outer_optimizer/v", as: Float.self, expectShape: [n]).values
        s.adam.count = try file.attributeInt("count", on: "outer_optimizer")
        s.outerStep = try file.attributeInt("outer_step")
        // What the trainer only ever writes: one AdamW update per outer step, finite moments and
        // v ≥ 0 (a diverged inner copy may hold NaN parameters; θ and the outer state never do).
        guard s.outerStep >= 0, s.adam.count == s.outerStep else {
            throw MetaConfigError("\(path): outer_step \(s.outerStep) and outer_optimizer@count \(s.adam.count) must be equal and ≥ 0")
        }
        guard s.adam.m.allSatisfy(\.isFinite), s.adam.v.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw MetaConfigError("\(path): outer_optimizer/m and v must be finite, v ≥ 0")
        }
        let es = trainer.config.estimator
        let restart = try file.hasAttribute("restart_point") && file.attributeInt("restart_point") == 1
        for (f, task) in trainer.tasks.enumerated() {
            let g = "families/\(f)"
            guard try file.attributeString("task", on: g) == task.name else {
                throw MetaConfigError("\(path): family \(f) is not \(task.name)")
            }
            if restart { continue }
            s.particles[f] = try (0..<es.pairs).map { i in
                let pg = "\(g)/particles/\(i)"
                let (step, length) = (try file.attributeInt("episode_step", on: pg), try file.attributeInt("episode_length", on: pg))
                // A particle's first episode starts at its initial offset, which may exceed the
                // length; when an episode ends the next one's length is drawn at once while the
                // step keeps counting until the reset — so the step is bounded, not by `length`.
                guard (1...es.episodeMax).contains(length), (0...max(es.episodeMax, es.initialOffsetMax) + es.truncation).contains(step) else {
                    throw MetaConfigError("\(path): \(pg) has episode_step \(step) and episode_length \(length), outside what the estimator makes")
                }
                let xi = try file.read("\(pg)/xi", as: Float.self, expectShape: [n]).values
                guard xi.allSatisfy(\.isFinite) else { throw MetaConfigError("\(path): \(pg)/xi holds non-finite values") }
                return Particle(pos: try readCopy(file, optimizer: optimizer, specs: task.parameterSpecs, group: "\(pg)/pos"),
                                neg: try readCopy(file, optimizer: optimizer, specs: task.parameterSpecs, group: "\(pg)/neg"),
                                episodeStep: step, episodeLength: length, isDone: try file.attributeInt("is_done", on: pg) != 0, xi: xi)
            }
        }
        s.metrics = try readMetrics(file, tasks: trainer.tasks, steps: s.outerStep)
        trainer.state = s
        if restart { trainer.restartParticles() }
        return restart
    }

    /// A copy as `writeOptimization` stored it: parameters, and the LO state under `lo/`.
    static func readCopy<O: Optimizer>(_ file: HDF5File, optimizer: O, specs: [ParameterSpec], group: String) throws
        -> Particle<O.State>.Copy {
        let (params, lo) = try file.readOptimization(optimizer: optimizer, specs: specs, group: group, stateGroup: "lo")
        return Particle.Copy(params: params, lo: lo)
    }

    static func readMetrics(_ file: HDF5File, tasks: [any Task], steps: Int) throws -> MetaMetrics {
        func series<T: HDF5Element>(_ name: String, _: T.Type) throws -> [T] {
            try file.read("metrics/\(name)", as: T.self, expectShape: [steps]).values
        }
        var m = MetaMetrics(families: tasks.count)
        m.outerStep = try series("outer_step", Int64.self)
        m.metaLoss = try series("meta_loss", Float.self)
        m.learningRate = try series("learning_rate", Float.self)
        m.updateNorm = try series("update_norm", Float.self)
        m.wallTime = try series("wall_time_s", Double.self)
        m.innerStepsPerSecond = try series("inner_steps_per_s", Float.self)
        // Recorded since checkpoints carry it; older runs name only the CPUs after their resume.
        if file.hasAttribute("cpu_models", on: "metrics") { m.cpuModels = try file.attributeStrings("cpu_models", on: "metrics") }
        if file.hasAttribute("init_theta", on: "metrics") { m.initTheta = try file.attributeString("init_theta", on: "metrics") }
        if file.hasAttribute("init_outer_steps", on: "metrics") { m.initOuterSteps = try file.attributeInt("init_outer_steps", on: "metrics") }
        if file.hasAttribute("particle_restarts", on: "metrics") {
            m.particleRestarts = try file.attributeInts("particle_restarts", on: "metrics")
            guard m.particleRestarts.allSatisfy({ $0 >= 1 && $0 <= steps }) else {
                throw MetaConfigError("metrics@particle_restarts \(m.particleRestarts) must lie in 1...\(steps)")
            }
        }
        m.familyLoss = try tasks.map { try series("family_loss/\($0.name)", Float.self) }
        // Checkpoints from before the series existed: unknown (NaN) for their steps.
        m.familyAtBound = try tasks.map {
            file.exists("metrics/family_at_bound/\($0.name)")
                ? try series("family_at_bound/\($0.name)", Float.self) : [Float](repeating: .nan, count: steps)
        }
        return m
    }

    // MARK: Run directories

    /// The newest checkpoint named by `dir/latest`, or nil if the directory has none.
    public static func latest(in dir: String) throws -> String? {
        let pointer = (dir as NSString).appendingPathComponent("latest")
        guard FileManager.default.fileExists(atPath: pointer) else { return nil }
        let name = try String(contentsOfFile: pointer, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let path = (dir as NSString).appendingPathComponent(name)
        guard !name.isEmpty, !name.contains("/"), FileManager.default.fileExists(atPath: path) else {
            throw MetaConfigError("\(pointer) names '\(name)', which is not a checkpoint in \(dir)")
        }
        return path
    }

    /// Writes a checkpoint, its restart point, then θ alone, then the pointer, then prunes old
    /// checkpoints (all but the newest `keep` and the multiples of `keep_every`). Each
    /// file appears atomically, and the pointer moves only once its checkpoint is complete.
    public static func checkpoint<A>(_ trainer: MetaTrainer<A>, in dir: String) throws -> String {
        let name = fileName(step: trainer.state.outerStep)
        let path = (dir as NSString).appendingPathComponent(name)
        try save(trainer, to: path)
        try save(trainer, to: (dir as NSString).appendingPathComponent(restartFile), particles: false)
        try LOCheckpoint.save(trainer.state.theta, of: trainer.architecture,
                              to: (dir as NSString).appendingPathComponent("theta.h5"),
                              metadata: ["origin": "mulo meta-train \(trainer.config.name), outer step \(trainer.state.outerStep)",
                                         "config": trainer.config.json])
        try AtomicFile.write(name + "\n", to: (dir as NSString).appendingPathComponent("latest"))
        let every = trainer.config.checkpoint.keepEvery
        let old = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".h5") }.sorted().dropLast(trainer.config.checkpoint.keep)
            .filter { f in every == 0 || Int(f.dropFirst("checkpoint-".count).dropLast(".h5".count)).map { $0 % every != 0 } ?? true }
        for f in old { try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(f)) }
        return path
    }
}
