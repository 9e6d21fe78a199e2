import Foundation
@testable import MuLO
import Testing

@Suite("Meta-training")
struct MetaTrainingTests {
    /// A tiny experiment whose episodes end and reset within a few outer steps.
    static func tiny(_ estimator: MetaConfig.Estimator = .pes) -> MetaConfig {
        var c = MetaConfig(name: "tiny")
        c.families = [.init(template: "mumlp-w{W}-d2_synthetic-6x6x1", widths: [8, 12], batchSize: 16)]
        c.estimator.pairs = 3
        c.estimator.truncation = 4
        c.estimator.episodeMin = 5
        c.estimator.episodeMax = 11
        c.estimator.initialOffsetMax = 5
        c.estimator.kind = estimator
        c.outerOptimizer.warmupSteps = 2
        c.outerOptimizer.decayEnd = 20
        c.outerSteps = 6
        return c
    }

    /// `a` after `before` outer steps, checkpointed and restored into `b`; then `after` more steps
    /// of both must give the same run.
    static func checkExactResume<A>(_ a: MetaTrainer<A>, into b: MetaTrainer<A>, before: Int, after: Int) throws {
        for _ in 0..<before { try a.outerStep() }
        let path = try Support.tempDir().appendingPathComponent("resume.h5").path
        try MetaCheckpoint.save(a, to: path)
        try MetaCheckpoint.restore(b, from: path)
        #expect(b.state == a.state)
        for _ in 0..<after {
            try a.outerStep()
            try b.outerStep()
        }
        #expect(sameRun(a.state, b.state))
    }

    /// Same θ bytes, outer optimizer, particles and reproducible metrics (wall time never is).
    static func sameRun<A>(_ a: MetaState<A>, _ b: MetaState<A>) -> Bool {
        let core = a.theta == b.theta && a.adam == b.adam && a.outerStep == b.outerStep
        return core && a.particles == b.particles && a.metrics.deterministic == b.metrics.deterministic
    }

    @Test func resumeIsBitExact() throws {
        let dir = try Support.tempDir()
        let a = try MetaTrainer(config: Self.tiny(), threads: 2)
        for _ in 0..<3 { try a.outerStep() }
        let path = dir.appendingPathComponent("c.h5").path
        try MetaCheckpoint.save(a, to: path)
        let b = try MetaTrainer(config: Self.tiny(), threads: 2)
        try MetaCheckpoint.restore(b, from: path)
        #expect(b.state == a.state)  // everything, wall times included, right after the restore
        for _ in 0..<3 {
            try a.outerStep()
            try b.outerStep()
        }
        #expect(a.state.theta.flat == b.state.theta.flat)
        #expect(Self.sameRun(a.state, b.state))
    }

    /// A restart point (what a run directory's restart.h5 holds) keeps θ, the outer optimizer, the
    /// step and the metrics and starts every particle as a new run would, from keys of the step:
    /// going on from it twice gives the same run, and the restart is recorded and survives.
    @Test func restartPointKeepsTheOuterStateAndStartsParticlesAfresh() throws {
        let dir = try Support.tempDir()
        let a = try MetaTrainer(config: Self.tiny(), threads: 2)
        for _ in 0..<3 { try a.outerStep() }
        let path = dir.appendingPathComponent("restart.h5").path
        try MetaCheckpoint.save(a, to: path, particles: false)
        #expect(!(try HDF5File.open(path).exists("families/0/particles")))
        func goOn() throws -> MetaTrainer<SmallFCLOpt> {
            let b = try MetaTrainer(config: Self.tiny(), threads: 1)
            #expect(try MetaCheckpoint.restore(b, from: path))
            return b
        }
        let b = try goOn(), c = try goOn()
        #expect(b.state.theta == a.state.theta && b.state.adam == a.state.adam && b.state.outerStep == 3)
        #expect(b.state.metrics.metaLoss == a.state.metrics.metaLoss && b.state.metrics.particleRestarts == [3])
        // Fresh particles: ξ = 0, new optimizees, and not the first run's starting ones.
        let fresh = try MetaTrainer(config: Self.tiny(), threads: 1)
        #expect(b.state.particles.flatMap { $0 }.allSatisfy { $0.xi.allSatisfy { $0 == 0 } })
        #expect(b.state.particles != a.state.particles && b.state.particles != fresh.state.particles)
        for _ in 0..<2 {
            try b.outerStep()
            try c.outerStep()
        }
        #expect(Self.sameRun(b.state, c.state))
        // A full checkpoint of the continued run keeps the record, and it reaches the exported budget.
        let full = dir.appendingPathComponent("c.h5").path
        try MetaCheckpoint.save(b, to: full)
        let d = try MetaTrainer(config: Self.tiny(), threads: 1)
        #expect(!(try MetaCheckpoint.restore(d, from: full)))
        #expect(d.state.metrics.particleRestarts == [3] && Self.sameRun(d.state, b.state))
        let shipped = dir.appendingPathComponent("theta.h5").path
        try LOExport.writeShippable(b.state.theta, of: b.architecture, source: full, to: shipped)
        #expect(try HDF5File.open(shipped).attributeString("budget").hasSuffix("; particles restarted at outer step 3"))
    }

    @Test func threadCountDoesNotChangeResults() throws {
        func run(_ threads: Int) throws -> MetaState<SmallFCLOpt> {
            let t = try MetaTrainer(config: Self.tiny(), threads: threads)
            for _ in 0..<3 { try t.outerStep() }
            return t.state
        }
        let one = try run(1), two = try run(2)
        #expect(Self.sameRun(one, two))
        #expect(one.theta != LOTheta.initial(key: RNGKey(seed: 0)).parameters)
        // Episodes ended and particles were reset during these steps.
        #expect(one.particles.flatMap { $0 }.contains { $0.pos.lo.step < 12 })
    }

    /// With ξ = 0 at the start, one PES step and one ES step give the same θ.
    @Test func firstStepOfPESAndESAgree() throws {
        let pes = try MetaTrainer(config: Self.tiny(.pes), threads: 2)
        let es = try MetaTrainer(config: Self.tiny(.es), threads: 2)
        try pes.outerStep()
        try es.outerStep()
        for (x, y) in zip(pes.state.theta.flat, es.state.theta.flat) { #expect(abs(x - y) <= 1e-6 * max(1, abs(y))) }
    }

    @Test func outerUpdateIsClippedAndFollowsTheSchedule() throws {
        var c = Self.tiny()
        c.outerOptimizer.updateClip = 1e-4
        let t = try MetaTrainer(config: c, threads: 2)
        let before = t.state.theta.flat
        try t.outerStep()
        try t.outerStep()
        let moved = zip(t.state.theta.flat, before).map { Double($0 - $1) }
        #expect((moved.reduce(0) { $0 + $1 * $1 }).squareRoot() <= 2e-4 * 1.0001)
        #expect(t.state.metrics.learningRate == [c.outerOptimizer.schedule.value(at: 0), c.outerOptimizer.schedule.value(at: 1)])
        #expect(t.state.adam.count == 2)
    }

    /// Counted (unmasked) losses of both copies at or above the bound, over twice the counted steps.
    @Test func fractionAtBoundCountsClippedLosses() {
        let r = TruncationRecord(lossPos: [9, 3.45, 1, 9], lossNeg: [9, 1, 1, 3.46], done: [false, false, false, false],
                                 mask: [false, true, true, true])
        #expect(r.fractionAtBound(3.45) == 0.5)
        #expect(TruncationRecord(lossPos: [9], lossNeg: [9], done: [true], mask: [false]).fractionAtBound(3.45) == 0)
    }

    /// A step multiplier that blows the inner runs up shows in the metrics and survives a checkpoint;
    /// the tiny experiment's inner runs never reach the bound.
    @Test func divergedInnerRunsAreRecorded() throws {
        var c = Self.tiny()
        c.learnedOptimizer.stepMult = 1e4
        let wild = try MetaTrainer(config: c, threads: 2)
        for _ in 0..<2 { try wild.outerStep() }
        #expect(wild.state.metrics.familyAtBound.allSatisfy { $0.count == 2 && $0.allSatisfy { $0 > 0.2 && $0 <= 1 } })
        let path = try Support.tempDir().appendingPathComponent("wild.h5").path
        try MetaCheckpoint.save(wild, to: path)
        let restored = try MetaTrainer(config: c, threads: 2)
        try MetaCheckpoint.restore(restored, from: path)
        #expect(restored.state.metrics.familyAtBound == wild.state.metrics.familyAtBound)
        let tame = try MetaTrainer(config: Self.tiny(), threads: 2)
        for _ in 0..<2 { try tame.outerStep() }
        #expect(tame.state.metrics.familyAtBound.allSatisfy { $0 == [0, 0] })
    }

    /// The demo configs learn (small_fc_lopt's and μVeLO's): meta-loss falls, and the meta-trained
    /// θ trains held-out seeds of the demo task to a lower loss than the initial θ.
    @Test(.enabled(if: Support.fashionMNISTAvailable, "needs Debian's dataset-fashion-mnist"), arguments: ["demo", "muvelo-demo"])
    func demoLearns(name: String) throws {
        let config = try MetaConfig.load(Support.repoRoot.appendingPathComponent("MetaTasks/\(name).toml").path)
        if config.learnedOptimizer.architecture == VeLO.name {
            try Self.checkLearns(config, VeLO(config.learnedOptimizer.veloConfig))
        } else {
            try Self.checkLearns(config, SmallFCLOpt(config.loConfig))
        }
    }

    static func checkLearns<A: LearnedOptimizerArchitecture>(_ config: MetaConfig, _ architecture: A) throws {
        let t = try MetaTrainer(config: config, architecture: architecture)
        for _ in 0..<config.outerSteps { try t.outerStep() }
        let loss = t.state.metrics.metaLoss
        let (early, late) = (loss.prefix(20).reduce(0, +) / 20, loss.suffix(20).reduce(0, +) / 20)
        #expect(late < 0.8 * early, "\(config.name): meta-loss \(early) → \(late)")
        let family = config.families[0]
        let task = try MLPTaskName(parsing: family.template.replacingOccurrences(of: "{W}", with: "\(family.widths.last!)")).makeMLPTask()
        func finalLoss(_ theta: MetaParameters, seed: UInt64) throws -> Float {
            let run = TrainConfig(task: task.name, optimizer: "lo", steps: 150, batchSize: family.batchSize, seed: seed, testInterval: 0,
                                  testExamples: 1000)
            let r = try train(task: task, optimizer: architecture.makeOptimizer(theta: theta), config: run)
            return r.trainLoss.suffix(20).reduce(0, +) / 20
        }
        let initial = architecture.initialTheta(key: RNGKey(seed: config.learnedOptimizer.initSeed))
        for seed: UInt64 in [1001, 1002] {
            let (before, after) = (try finalLoss(initial, seed: seed), try finalLoss(t.state.theta, seed: seed))
            #expect(after < 0.8 * before, "\(config.name), held-out seed \(seed): initial θ \(before), meta-trained θ \(after)")
        }
    }

    static func parse(_ text: String) throws -> MetaConfig {
        try MetaConfig.parse(toml: text, defaultName: "t", source: "t.toml")
    }

    static let valid = """
        [[families]]
        template = "mumlp-w{W}-d3_synthetic-4x4x1"
        width_range = [16, 100]
        """

    @Test func configsParseWithPaperDefaults() throws {
        let c = try Self.parse(Self.valid)
        #expect(c.families[0].widths == [16, 32, 64] && c.families[0].batchSize == 128)
        #expect(c.estimator.pairs == 8 && c.estimator.sigma == 0.01 && c.estimator.truncation == 50 && c.outerSteps == 5000 && c.learnedOptimizer.stepMult == 0.01)
        let sp = try Self.parse("[[families]]\ntemplate = \"mlp-w{W}-d3_synthetic-4x4x1\"\nwidths = [8]\n[learned_optimizer]\nparametrization = \"sp\"")
        #expect(sp.learnedOptimizer.stepMult == 0.001 && sp.parametrization == .standard)
        #expect(c.departures.contains { $0.hasPrefix("tasks:") } && !c.departures.contains { $0.hasPrefix("sigma") })
    }

    /// Every key lands in its own field (distinct values, so a swapped mapping fails).
    @Test func everyKeySetsItsField() throws {
        let c = try Self.parse(Self.valid + """

            [learned_optimizer]
            step_mult = 0.02
            exp_mult = 0.003
            hidden_size = 16
            [estimator]
            pairs = 3
            sigma = 0.04
            truncation = 5
            episode_min = 6
            episode_max = 70
            initial_offset_max = 8
            [outer_optimizer]
            beta1 = 0.81
            beta2 = 0.97
            epsilon = 1e-7
            weight_decay = 0.002
            update_clip = 0.4
            lr_initial = 1e-5
            lr_peak = 2e-3
            lr_final = 3e-4
            warmup_steps = 9
            decay_end = 400
            [checkpoint]
            interval = 11
            keep = 4
            """)
        let (lo, es, oo) = (c.learnedOptimizer, c.estimator, c.outerOptimizer)
        let floats: [Float] = [lo.stepMult, lo.expMult, es.sigma, oo.beta1, oo.beta2, oo.epsilon, oo.weightDecay, oo.updateClip,
                               oo.lrInitial, oo.lrPeak, oo.lrFinal]
        #expect(floats == [0.02, 0.003, 0.04, 0.81, 0.97, 1e-7, 0.002, 0.4, 1e-5, 2e-3, 3e-4])
        let ints: [Int] = [lo.hiddenSize, es.pairs, es.truncation, es.episodeMin, es.episodeMax, es.initialOffsetMax,
                           oo.warmupSteps, oo.decayEnd, c.checkpoint.interval, c.checkpoint.keep]
        #expect(ints == [16, 3, 5, 6, 70, 8, 9, 400, 11, 4])
    }

    /// VeLO's keys land in their fields and reach the VeLO configuration (distinct values).
    @Test func everyVeLOKeySetsItsField() throws {
        let c = try Self.parse(Self.valid + """

            [learned_optimizer]
            architecture = "velo"
            lstm_hidden_size = 12
            param_inits = 5
            interp_mult = 3.5
            param_scale_mult = true
            bank_init_gain = 0.25
            init_controls = 0.75
            init_lr_mult = 6.5
            descent_bank = true
            """)
        let v = c.learnedOptimizer.veloConfig
        #expect([v.lstmHidden, v.paramInits] == [12, 5] && v.paramScaleMult && v.descentBank)
        #expect([v.interpMult, v.bankInitGain, v.initControls, v.initLRMult] == [3.5, 0.25, 0.75, 6.5])
        #expect(c.departures.contains("descent path in the MLP bank: true (paper: false)"))
    }

    /// Every shipped experiment parses and validates (its task names included).
    @Test func everyMetaTasksConfigLoads() throws {
        let dir = Support.repoRoot.appendingPathComponent("MetaTasks")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }
        #expect(files.count >= 6)
        for f in files { _ = try MetaConfig.load(dir.appendingPathComponent(f).path) }
    }

    /// Stored configurations use the TOML's sections and keys with JSON numbers; the identity
    /// that gates resuming keeps the first release's text, so its checkpoints still resume.
    @Test func storedConfigurationFollowsTheTOML() throws {
        var c = Self.tiny()
        c.estimator.sigma = 0.04
        let object = try #require(try JSONSerialization.jsonObject(with: Data(c.json.utf8)) as? [String: Any])
        let estimator = try #require(object["estimator"] as? [String: Any])
        #expect((estimator["sigma"] as? NSNumber)?.floatValue == 0.04 && (estimator["episode_min"] as? NSNumber)?.intValue == 5)
        #expect(((object["checkpoint"] as? [String: Any])?["interval"] as? NSNumber) != nil)
        #expect(((object["families"] as? [[String: Any]])?.first?["batch_size"] as? NSNumber)?.intValue == 16)
        #expect(MetaConfig.storedOuterSteps(c.json) == c.outerSteps)
        #expect(c.identity.contains("\"episodeMin\":5") && c.identity.contains("\"sigma\":0.04") && c.identity.contains("\"checkpointInterval\":0"))
    }

    @Test(arguments: [
        ("unknown top-level key", "sigmaa = 1\n" + valid, "unknown key 'sigmaa'"),
        ("unknown family key", valid + "\nbatch = 3", "unknown key 'families[0].batch'"),
        ("unknown section key", valid + "\n[estimator]\nsgima = 0.1", "unknown key 'estimator.sgima'"),
        ("width 0", "[[families]]\ntemplate = \"mumlp-w{W}-d3_synthetic-4x4x1\"\nwidths = [0, 8]", "widths must be ≥ 1"),
        ("sigma 0", valid + "\n[estimator]\nsigma = 0", "sigma must be > 0"),
        ("negative sigma", valid + "\n[estimator]\nsigma = -0.1", "sigma must be > 0"),
        ("no families", "seed = 1", "family list is empty"),
        ("empty families", "families = []", "family list is empty"),
        ("template without {W}", "[[families]]\ntemplate = \"mumlp-w8-d3_synthetic-4x4x1\"\nwidths = [8]", "no {W}"),
        ("wrong type", valid + "\n[estimator]\npairs = \"eight\"", "estimator.pairs must be an integer"),
        ("sp task with mu LO", "[[families]]\ntemplate = \"mlp-w{W}-d3_synthetic-4x4x1\"\nwidths = [8]", "is sp but"),
        ("bad estimator", valid + "\n[estimator]\nkind = \"reinforce\"", "pes"),
        // TOML's inf and nan: inf passed every comparison and crashed the first checkpoint's JSON.
        ("infinite learning rate", valid + "\n[outer_optimizer]\nlr_peak = inf", "outer_optimizer.lr_peak must be finite"),
        ("NaN weight decay", valid + "\n[outer_optimizer]\nweight_decay = nan", "outer_optimizer.weight_decay must be finite"),
        ("infinite update clip", valid + "\n[outer_optimizer]\nupdate_clip = +inf", "outer_optimizer.update_clip must be finite"),
        ("infinite VeLO init", valid + "\n[learned_optimizer]\narchitecture = \"velo\"\ninit_lr_mult = -inf", "init_lr_mult must be finite"),
        ("both width forms", "[[families]]\ntemplate = \"mumlp-w{W}-d3_synthetic-4x4x1\"\nwidths = [8]\nwidth_range = [8, 16]", "exactly one"),
    ])
    func badConfigsAreClearErrors(label: String, text: String, message: String) {
        let e = #expect(throws: MetaConfigError.self, "\(label)") { try Self.parse(text) }
        #expect(e?.message.contains(message) == true, "\(label): \(e?.message ?? "no error")")
    }
}

@Suite("mulo meta-train command", .serialized)
struct MetaTrainCommandTests {
    static let config = """
        name = "cli-tiny"
        outer_steps = 6
        [[families]]
        template = "mumlp-w{W}-d2_synthetic-6x6x1"
        widths = [8, 12]
        batch_size = 16
        [estimator]
        pairs = 2
        truncation = 4
        episode_min = 5
        episode_max = 11
        initial_offset_max = 5
        [outer_optimizer]
        warmup_steps = 2
        decay_end = 20
        [checkpoint]
        interval = 2
        keep = 2
        """

    /// keep_every keeps milestones beside the newest `keep`, and may be added when resuming.
    @Test func milestoneCheckpointsAreKept() throws {
        let dir = try Support.tempDir()
        let run = dir.appendingPathComponent("run")
        let one = try writeConfig(dir, Self.config.replacingOccurrences(of: "keep = 2", with: "keep = 1"), name: "one.toml")
        #expect(try Support.mulo(["meta-train", one, "--out", run.path, "--steps", "2"]).status == 0)
        let every = try writeConfig(dir, Self.config.replacingOccurrences(of: "keep = 2", with: "keep = 1\nkeep_every = 2"), name: "every.toml")
        let r = try Support.mulo(["meta-train", every, "--out", run.path, "--resume"])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        #expect(files == ["checkpoint-000002.h5", "checkpoint-000004.h5", "checkpoint-000006.h5"], "\(files)")
        let bad = try writeConfig(dir, Self.config.replacingOccurrences(of: "keep = 2", with: "keep_every = -1"), name: "bad.toml")
        let b = try Support.mulo(["meta-train", bad, "--out", dir.appendingPathComponent("bad").path])
        #expect(b.status != 0 && b.stderr.contains("keep_every"), "\(b.stderr)")
    }

    /// init_checkpoint continues a shipped θ (the SP VeLO restart of issue 18): the run starts
    /// exactly there (checked with a zero first learning rate), says so among its departures,
    /// keeps the provenance across a resume, and its shipped budget adds the earlier outer steps.
    @Test func initCheckpointContinuesAShippedTheta() throws {
        let dir = try Support.tempDir()
        let first = dir.appendingPathComponent("first"), ship = dir.appendingPathComponent("ship")
        #expect(try Support.mulo(["meta-train", try writeConfig(dir), "--out", first.path, "--steps", "2"]).status == 0)
        #expect(try Support.mulo(["export", try #require(try MetaCheckpoint.latest(in: first.path)), "--format", "h5", "--out", ship.path]).status == 0)
        // Named as Checkpoints/earlier/ names each part's θ, so the parts form a chain.
        let shipped = dir.appendingPathComponent("part1.h5").path
        try FileManager.default.copyItem(atPath: ship.appendingPathComponent("theta.h5").path, toPath: shipped)
        let text = Self.config.replacingOccurrences(of: "outer_steps = 6", with: "outer_steps = 4")
            .replacingOccurrences(of: "warmup_steps = 2", with: "warmup_steps = 2\nlr_initial = 0")
            + "\n[learned_optimizer]\ninit_checkpoint = \"\(shipped)\"\n"
        let cfg = try writeConfig(dir, text, name: "continued.toml")
        let run = dir.appendingPathComponent("continued")
        let r = try Support.mulo(["meta-train", cfg, "--out", run.path, "--steps", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("θ's start: the θ in \(shipped)"))
        #expect(try theta(run) == LOCheckpoint.load(shipped).theta.flat)  // learning rate 0 at outer step 0
        #expect(try Support.mulo(["meta-train", cfg, "--out", run.path, "--resume"]).status == 0)
        let out = dir.appendingPathComponent("ship2")
        #expect(try Support.mulo(["export", try #require(try MetaCheckpoint.latest(in: run.path)), "--format", "h5", "--out", out.path]).status == 0)
        let f = try HDF5File.open(out.appendingPathComponent("theta.h5").path)
        #expect(try f.attributeString("budget") == "4 outer steps of meta-training (configured: 4), continuing the θ of 2 earlier outer steps (part1.h5)")
        #expect(try f.attributeInt("init_outer_steps") == 2)
        // A third part, continuing the second's θ, counts the outer steps of both before it.
        let second = dir.appendingPathComponent("part2.h5").path
        try FileManager.default.copyItem(atPath: out.appendingPathComponent("theta.h5").path, toPath: second)
        let third = try writeConfig(dir, text.replacingOccurrences(of: shipped, with: second), name: "third.toml")
        let (run3, out3) = (dir.appendingPathComponent("third"), dir.appendingPathComponent("ship3"))
        #expect(try Support.mulo(["meta-train", third, "--out", run3.path, "--steps", "1"]).status == 0)
        #expect(try Support.mulo(["export", try #require(try MetaCheckpoint.latest(in: run3.path)), "--format", "h5", "--out", out3.path]).status == 0)
        #expect(try HDF5File.open(out3.appendingPathComponent("theta.h5").path).attributeInt("init_outer_steps") == 6)
        // The report's meta-training curve continues from outer step 2, the first part (kept in
        // <checkpoints>/earlier/) drawn before it; the third part's, from step 6 after both.
        let ck = dir.appendingPathComponent("ck")
        try FileManager.default.createDirectory(at: ck.appendingPathComponent("earlier"), withIntermediateDirectories: true)
        for part in [shipped, second] {
            try FileManager.default.copyItem(atPath: part, toPath: ck.appendingPathComponent("earlier/\((part as NSString).lastPathComponent)").path)
        }
        try FileManager.default.copyItem(atPath: out.appendingPathComponent("theta.h5").path, toPath: ck.appendingPathComponent("continued.h5").path)
        try FileManager.default.copyItem(atPath: out3.appendingPathComponent("theta.h5").path, toPath: ck.appendingPathComponent("third.h5").path)
        let curves = ResultsDocument.metaTrainingCurves([try ResultsDocument.Shipped(path: ck.appendingPathComponent("continued.h5").path)])
        #expect(curves.window == 1 && curves.curves.map(\.x) == [[1, 2], [3, 4, 5, 6]] && curves.curves.map(\.faint) == [true, false])
        let curves3 = ResultsDocument.metaTrainingCurves([try ResultsDocument.Shipped(path: ck.appendingPathComponent("third.h5").path)])
        #expect(curves3.curves.map(\.x) == [[1, 2], [3, 4, 5, 6], [7]] && curves3.curves.map(\.faint) == [true, true, false])
        // Its meta-training wall time is the three parts' (each run file's last cumulative entry).
        let thirdPath = ck.appendingPathComponent("third.h5").path
        let walls = try [shipped, second, thirdPath].map { try #require(try HDF5File.open($0).read("metrics/wall_time_s", as: Double.self).values.last) }
        #expect(walls.allSatisfy { $0 > 0 })
        #expect(abs(try #require(try ResultsDocument.Shipped(path: thirdPath).wallSeconds) - walls.reduce(0, +)) <= 1e-9 * walls.reduce(0, +))
        // A missing file is a clear error before the run directory is made.
        let missing = try writeConfig(dir, text.replacingOccurrences(of: shipped, with: "/nonexistent/theta.h5"), name: "missing.toml")
        let m = try Support.mulo(["meta-train", missing, "--out", dir.appendingPathComponent("m").path])
        #expect(m.status != 0 && m.stderr.contains("/nonexistent/theta.h5"), "\(m.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m").path))
        // So is another architecture's θ (the shipped μVeLO for this small_fc_lopt config).
        let muvelo = Support.repoRoot.appendingPathComponent("Checkpoints/muvelo-m-fashionmnist.h5").path
        let other = try writeConfig(dir, text.replacingOccurrences(of: shipped, with: muvelo), name: "other.toml")
        let o = try Support.mulo(["meta-train", other, "--out", dir.appendingPathComponent("o").path])
        #expect(o.status != 0 && o.stderr.contains("holds a mu velo θ"), "\(o.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
    }

    /// A background run logs to one file (`> log 2>&1`): its header (stdout) comes before the
    /// progress lines (stderr), not at exit as a block-buffered stdout would put it.
    @Test func logIntoOneFileIsInOrder() throws {
        let dir = try Support.tempDir()
        let log = dir.appendingPathComponent("run.log").path
        let command = "'\(Support.muloExecutable.path)' meta-train '\(try writeConfig(dir))' --out '\(dir.appendingPathComponent("run").path)' --steps 2 > '\(log)' 2>&1"
        #expect(try Support.run(URL(fileURLWithPath: "/bin/sh"), ["-c", command]).status == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let header = try #require(lines.firstIndex { $0.hasPrefix("meta-training cli-tiny") })
        let progress = try #require(lines.firstIndex { $0.hasPrefix("outer step 1/") })
        #expect(header < progress, "\(lines)")
    }

    func writeConfig(_ dir: URL, _ text: String = config, name: String = "cli.toml") throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func theta(_ dir: URL) throws -> [Float] {
        try LOCheckpoint.load(dir.appendingPathComponent("theta.h5").path).theta.flat
    }

    func metrics(_ dir: URL) throws -> [[Float]] {
        let f = try HDF5File.open(try MetaCheckpoint.latest(in: dir.path)!)
        return try ["outer_step", "meta_loss", "learning_rate", "update_norm"].map { name in
            name == "outer_step" ? try f.read("metrics/\(name)", as: Int64.self).values.map(Float.init)
                : try f.read("metrics/\(name)", as: Float.self).values
        }
    }

    /// The shipped θ files load and train a wide model next to the new θ, each in its own parametrization.
    @Test func comparesTheNewThetaWithTheShippedOnesAtAWiderWidth() throws {
        let dir = try Support.tempDir()
        let run = dir.appendingPathComponent("run")
        let r = try Support.mulo(["meta-train", try writeConfig(dir), "--out", run.path, "--steps", "2", "--compare-width", "64"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("comparing at width 64 (meta-trained at 8, 12)"))
        for label in ["μLO run", "μLO mulo-m-fashionmnist", "LO (SP) lo-m-fashionmnist"] { #expect(r.stdout.contains(label), "\(label)") }
        // One line per optimizer: its test accuracy, or where it diverged (never "nan%").
        let outcomes = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  lo-") }
        #expect(outcomes.count == 3 && outcomes.allSatisfy { $0.contains("test accuracy") || $0.contains("diverged at step") }
                    && !r.stdout.contains("nan"), "\(outcomes)")
        let h5 = try HDF5File.open(run.appendingPathComponent("compare-w64/results.h5").path)
        #expect(try h5.attributeString("task", on: "runs/lo-lo-m-fashionmnist/w64/s0") == "mlp-w64-d2_synthetic-6x6x1")
        #expect(try h5.read("runs/lo-run/w64/s0/train_loss", as: Float.self).values.count == 300)
        // Off unless asked for when a config is named.
        let plain = try Support.mulo(["meta-train", try writeConfig(dir), "--out", dir.appendingPathComponent("plain").path, "--steps", "1"])
        #expect(plain.status == 0 && !plain.stdout.contains("comparing"))
    }

    @Test func resumeContinuesExactlyAndKeepsCheckpoints() throws {
        let dir = try Support.tempDir()
        let cfg = try writeConfig(dir)
        let whole = dir.appendingPathComponent("whole"), split = dir.appendingPathComponent("split")
        let r1 = try Support.mulo(["meta-train", cfg, "--out", whole.path])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stdout.contains("departures from the paper"))
        #expect(try Support.mulo(["meta-train", cfg, "--out", split.path, "--steps", "3"]).status == 0)
        let r2 = try Support.mulo(["meta-train", cfg, "--out", split.path, "--resume", "--threads", "1"])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(r2.stdout.contains("resuming cli-tiny"))
        #expect(try theta(whole) == theta(split))
        #expect(try metrics(whole) == metrics(split))
        let files = try FileManager.default.contentsOfDirectory(atPath: whole.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        #expect(files == ["checkpoint-000004.h5", "checkpoint-000006.h5"])  // keep = 2
        let ckpt = try HDF5File.open(whole.appendingPathComponent("checkpoint-000006.h5").path)
        #expect(try ckpt.attributeStrings("departures_from_paper").contains { $0.hasPrefix("pairs: 2") })
        #expect(try ckpt.read("families/1/particles/1/neg/params/linear_0.w", as: Float.self).shape == [36, 12])
    }

    @Test func existingRunsAndOtherConfigsAreRefused() throws {
        let dir = try Support.tempDir()
        let cfg = try writeConfig(dir)
        let run = dir.appendingPathComponent("run")
        #expect(try Support.mulo(["meta-train", cfg, "--out", run.path, "--steps", "2"]).status == 0)
        let again = try Support.mulo(["meta-train", cfg, "--out", run.path])
        #expect(again.status != 0 && again.stderr.contains("--resume"))
        let other = try writeConfig(dir, Self.config.replacingOccurrences(of: "pairs = 2", with: "pairs = 3"), name: "other.toml")
        let before = try Data(contentsOf: run.appendingPathComponent("checkpoint-000002.h5"))
        let mismatch = try Support.mulo(["meta-train", other, "--out", run.path, "--resume"])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("different configuration"))
        #expect(try Data(contentsOf: run.appendingPathComponent("checkpoint-000002.h5")) == before)
        let none = try Support.mulo(["meta-train", cfg, "--out", dir.appendingPathComponent("empty").path, "--resume"])
        #expect(none.status != 0 && none.stderr.contains("no checkpoint"))
    }

    @Test func corruptCheckpointsAreClearErrorsAndNothingIsOverwritten() throws {
        let dir = try Support.tempDir()
        let cfg = try writeConfig(dir)
        let run = dir.appendingPathComponent("run")
        #expect(try Support.mulo(["meta-train", cfg, "--out", run.path, "--steps", "2"]).status == 0)
        let ckpt = run.appendingPathComponent("checkpoint-000002.h5")
        let bytes = try Data(contentsOf: ckpt)
        try bytes.prefix(bytes.count / 3).write(to: ckpt)
        let listing = try FileManager.default.contentsOfDirectory(atPath: run.path).sorted()
        let r = try Support.mulo(["meta-train", cfg, "--out", run.path, "--resume"])
        #expect(r.status != 0 && r.stderr.contains("checkpoint-000002.h5"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("HDF5-DIAG"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path).sorted() == listing)
        #expect(try Data(contentsOf: ckpt) == bytes.prefix(bytes.count / 3))
    }

    @Test func badConfigFailsBeforeWritingAnything() throws {
        let dir = try Support.tempDir()
        let cfg = try writeConfig(dir, Self.config.replacingOccurrences(of: "widths = [8, 12]", with: "widths = [0]"))
        let out = dir.appendingPathComponent("run")
        let r = try Support.mulo(["meta-train", cfg, "--out", out.path])
        #expect(r.status != 0 && r.stderr.contains("widths must be ≥ 1"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let missing = try Support.mulo(["meta-train", "no-such-config", "--out", out.path])
        #expect(missing.status != 0 && missing.stderr.contains("no config"))
    }

    /// The test config with (practically) unlimited outer steps, and the run directory to use.
    func endlessRun(_ dir: URL, interval: Int) throws -> (config: String, run: URL) {
        (try writeConfig(dir, Self.config.replacingOccurrences(of: "outer_steps = 6", with: "outer_steps = 100000")
            .replacingOccurrences(of: "interval = 2", with: "interval = \(interval)")), dir.appendingPathComponent("run"))
    }

    /// `mulo args` started in the background, output discarded.
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = Support.muloExecutable
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// One run per directory: while a run holds DIR, a second run and a --resume are refused at
    /// once, naming the holder; a killed holder's lock never blocks, and the next start removes
    /// the temporary files killed writers leave.
    @Test func oneRunPerDirectory() throws {
        let dir = try Support.tempDir()
        let (cfg, run) = try endlessRun(dir, interval: 1)
        let p = try start(["meta-train", cfg, "--out", run.path, "--threads", "1"])
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while (try? MetaCheckpoint.latest(in: run.path)) ?? nil == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        for extra in [[], ["--resume"]] {
            let second = try Support.mulo(["meta-train", cfg, "--out", run.path] + extra)
            #expect(second.status != 0 && second.stderr.contains("in use by another process")
                        && second.stderr.contains("\(p.processIdentifier)"), "\(extra): \(second.stderr)")
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // What a writer killed mid-write leaves (HDF5File's and AtomicFile's temporary names).
        for name in [".checkpoint-000099.h5.tmp-1-2", ".theta.h5.tmp-1-3", "latest.tmp-4"] {
            try Data("partial".utf8).write(to: run.appendingPathComponent(name))
        }
        let step = try HDF5File.open(try #require(try MetaCheckpoint.latest(in: run.path))).attributeInt("outer_step")
        let cont = try Support.mulo(["meta-train", cfg, "--out", run.path, "--resume", "--steps", "\(step + 1)"])
        #expect(cont.status == 0, "\(cont.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }

    /// Ctrl-C (SIGINT) finishes the outer step, writes a checkpoint and exits; the run resumes.
    @Test func interruptWritesACheckpoint() throws {
        let dir = try Support.tempDir()
        let (cfg, run) = try endlessRun(dir, interval: 100_000)
        let p = try start(["meta-train", cfg, "--out", run.path])
        Thread.sleep(forTimeInterval: 2.5)
        p.interrupt()
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let latest = try #require(try MetaCheckpoint.latest(in: run.path))
        let step = try HDF5File.open(latest).attributeInt("outer_step")
        #expect(step > 0)
        let cont = try Support.mulo(["meta-train", cfg, "--out", run.path, "--resume", "--steps", "\(step + 1)"])
        #expect(cont.status == 0, "\(cont.stderr)")
    }
}
