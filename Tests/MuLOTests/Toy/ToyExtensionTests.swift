import Foundation
import Testing
@testable import MuLO

/// A task family and a learned-optimizer architecture defined outside the library, each in this
/// one folder, go through the same machinery as the built-in ones: the generic optimizer suite,
/// meta-training, checkpoints with exact resume, and thread-count independence.
@Suite("a toy task family and a toy learned optimizer", .serialized)
struct ToyExtensionTests {
    init() {
        TaskRegistry.register(ToyQuadraticSpec.family)
        LearnedOptimizerRegistry.register(LearnedLearningRate.self)
    }

    /// The meta-training tests' tiny experiment on the toy family, with a larger outer learning rate.
    static func config() -> MetaConfig {
        var c = MetaTrainingTests.tiny()
        c.name = "toy"
        c.families = [.init(template: "toyquad-w{W}-d2", widths: [3, 5], batchSize: 4)]
        (c.outerOptimizer.lrPeak, c.outerOptimizer.decayEnd) = (0.05, 40)
        return c
    }

    func trainer(threads: Int = 2) throws -> MetaTrainer<LearnedLearningRate> {
        try MetaTrainer(config: Self.config(), architecture: LearnedLearningRate(), threads: threads)
    }

    @Test func theToyOptimizerPassesTheGenericSuite() {
        let lo = LearnedLearningRate()
        let r = OptimizerTests.descend(lo.makeOptimizer(theta: lo.initialTheta(key: RNGKey(seed: 1))), steps: 300)
        #expect(r.end < 0.1 * r.start, "\(r.start) → \(r.end)")
    }

    @Test func theToyTaskIsFoundByName() throws {
        let task = try TaskRegistry.makeTask("toyquad-w4-d3")
        #expect(task.parameterCount == 16 + 4 + 4)
        #expect(try TaskTemplate("toyquad-w{W}-d2").name(width: 7, depth: 3, parametrization: .mup).description == "toyquad-w7-d3")
    }

    @Test func metaTrainingRaisesTheLearningRateAndResumesExactly() throws {
        let dir = try Support.tempDir()
        let a = try trainer()
        try MetaTrainingTests.checkExactResume(a, into: try trainer(), before: 4, after: 16)
        // The toy's learning rate starts far too small for its quadratics: meta-training raises it.
        let start = LearnedLearningRate().initialTheta(key: RNGKey(seed: 0)).tensors[0].data[0]
        #expect(a.state.theta.tensors[0].data[0] > start + 0.3, "log lr \(start) → \(a.state.theta.tensors[0].data[0])")
        // θ files carry the architecture's name, so a reader can tell it from small_fc_lopt's.
        let theta = dir.appendingPathComponent("theta.h5").path
        try LOCheckpoint.save(a.state.theta, of: a.architecture, to: theta)
        #expect(try HDF5File.open(theta).attributeString("architecture", on: "theta") == "learned_lr")
        // …and evaluation reads it back as the toy architecture and trains with it.
        let eval = try EvalOptimizer.learned(path: theta)
        #expect(eval.label.hasPrefix("μlearned_lr") && eval.settingsDescription["architecture"] == "learned_lr")
        guard case .learned(let lo, _) = eval.kind else { Issue.record("not a learned optimizer"); return }
        #expect(lo.theta == a.state.theta)
        let task = try TaskRegistry.makeTask("toyquad-w5-d2")
        let result = try train(task: task, optimizer: eval.make(totalSteps: 20),
                               config: TrainConfig(task: task.name, optimizer: "lo", steps: 20, batchSize: 4, seed: 0,
                                                   testInterval: 0, testExamples: 4, optimizerSettings: [:]))
        #expect(result.trainLoss.last! < result.trainLoss.first!)
    }

    @Test func threadCountDoesNotChangeTheToyRun() throws {
        let one = try trainer(threads: 1), two = try trainer(threads: 2)
        for _ in 0..<3 {
            try one.outerStep()
            try two.outerStep()
        }
        #expect(MetaTrainingTests.sameRun(one.state, two.state))
    }
}
