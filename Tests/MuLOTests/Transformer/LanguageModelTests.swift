import Foundation
import Testing
@testable import MuLO
@testable import MuLOTraining

/// The language-model tasks against the JAX golden file, finite differences and the spec's
/// closed forms (TRANSFORMERS §2.6).
@Suite("transformer language model", .serialized)
struct LanguageModelTests {
    static var goldenPath: String {
        URL(fileURLWithPath: Support.goldenPath).deletingLastPathComponent().appendingPathComponent("transformer_tasks.h5").path
    }

    @Test(arguments: ReferenceChecker.languageModelGroups)
    func matchesTheReference(group: String) throws {
        let file = try HDF5File.open(Self.goldenPath)
        let checks = try ReferenceChecker.checkLanguageModel(file, group: group)
        let names = try file.attributeStrings("param_names", on: group)
        #expect(checks.count == 2 + 2 * names.count)
        for c in checks where !c.passed { Issue.record("\(c.line)") }
    }

    /// A random batch of token ids with pads at the ends of some rows, as the corpus makes them.
    static func batch(_ c: TransformerLMConfig, size: Int, seed: UInt64) -> Batch {
        let key = RNGKey(seed: seed)
        var ids = [Int32](), targets = [Int32]()
        for b in 0..<size {
            let length = c.seqLen - (b % 3)  // rows 1 and 2 end in pads
            let row = (0...c.seqLen).map { t in t < length ? Int32(3 + key.integer(below: c.vocab - 3, at: UInt64(b * 100 + t))) : 0 }
            ids += row[0..<c.seqLen]
            targets += row[1...c.seqLen]
        }
        var batch = Batch(tokens: ids, targets: targets, sequenceLength: c.seqLen)
        batch.noiseKey = key.split(9)
        return batch
    }

    static func loss(_ model: TransformerLMModel, _ params: [Tensor], _ batch: Batch) -> Float {
        model.evaluate(params, batch: batch, workspace: model.makeWorkspace(batchSize: batch.size)).loss
    }

    /// Central differences along a random direction per tensor agree with the backprop gradient,
    /// with dropout off and on (the batch's key fixes the masks).
    @Test(arguments: [(Parametrization.mup, 1, Float(0)), (.mup, 2, 0.1), (.standard, 3, 0), (.standard, 2, 0.1)])
    func gradientsMatchFiniteDifferences(parametrization: Parametrization, depth: Int, dropout: Float) {
        let c = TransformerLMConfig(width: 8, depth: depth, heads: 2, vocab: 259, seqLen: 6, parametrization: parametrization,
                                    dropout: dropout)
        let model = TransformerLMModel(config: c)
        let params = GradientCheck.perturbed(c.initialize(key: RNGKey(seed: 3)))
        let batch = Self.batch(c, size: 3, seed: 5)
        GradientCheck.directional(params, names: c.parameterSpecs.map(\.name),
                                  lossAndGradient: { p, g in model.lossAndGradient(p, batch: batch, grads: &g, workspace: model.makeWorkspace(batchSize: 3)) },
                                  loss: { Self.loss(model, $0, batch) })
    }

    /// §2.6: at init the μP readout is zero, so only the readout's gradients are non-zero and every
    /// position's logits equal b_out/W; the loss is that closed form whatever the dropout.
    @Test func muInitLossIsTheReadoutBiasClosedForm() {
        let c = TransformerLMConfig(width: 32, depth: 2, heads: 2, vocab: 259, seqLen: 10, parametrization: .mup)
        let model = TransformerLMModel(config: c)
        let params = c.initialize(key: RNGKey(seed: 1))
        let batch = Self.batch(c, size: 4, seed: 2)
        var grads = c.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: model.makeWorkspace(batchSize: 4))
        let bias = params[c.readout + 1].data.map { Double($0) / Double(c.width) }
        let lse = log(bias.reduce(0) { $0 + exp($1) })
        var sum = 0.0, count = 0.0
        for (x, y) in zip(batch.tokens, batch.labels) where x != 0 {
            sum += lse - bias[Int(y)]
            count += 1
        }
        #expect(abs(Double(loss) - sum / count) < 1e-5, "loss \(loss), closed form \(sum / count)")
        for (k, g) in grads.enumerated() where k < c.readout {
            #expect(g.data.allSatisfy { $0 == 0 }, "\(c.parameterSpecs[k].name) has a non-zero gradient at init")
        }
        #expect(grads[c.readout].data.contains { $0 != 0 } && grads[c.readout + 1].data.contains { $0 != 0 })
    }

    /// The initialisers against the reference's own initialisation statistics (`init_stats`),
    /// within four standard errors of the mean and of the std.
    @Test(arguments: ["lm_sp", "lm_mu"])
    func initialisationMatchesTheReferenceStatistics(model: String) throws {
        let file = try HDF5File.open(Self.goldenPath)
        let g = "init_stats/\(model)"
        let c = TransformerLMConfig(width: try file.attributeInt("width", on: g), depth: try file.attributeInt("depth", on: g),
                                    heads: try file.attributeInt("heads", on: g), vocab: try file.attributeInt("vocab", on: g),
                                    seqLen: 8, parametrization: model == "lm_mu" ? .mup : .standard)
        InitStatistics.compare(file, group: g, specs: c.parameterSpecs, params: c.initialize(key: RNGKey(seed: 11)))
    }

    /// §4.1's parameter count for the μP LM, and the SP LM's with A = 32·H.
    @Test(arguments: [(64, 2, 3), (128, 2, 3), (256, 4, 2), (96, 3, 1)])
    func parameterCountsFollowTheClosedForm(width: Int, heads: Int, depth: Int) {
        for p in Parametrization.allCases {
            let c = TransformerLMConfig(width: width, depth: depth, heads: heads, vocab: 259, seqLen: 8, parametrization: p)
            let (V, W, A, D) = (259, width, c.attnWidth, depth)
            let expected = 2 * V * W + V + D * (8 * W * W + 4 * W * A + 3 * A + 10 * W) + 2 * W
            #expect(c.parameterSpecs.reduce(0) { $0 + $1.count } == expected)
        }
    }

    @Test func threadCountDoesNotChangeLossOrGradients() {
        let c = TransformerLMConfig(width: 64, depth: 2, heads: 2, vocab: 259, seqLen: 32, parametrization: .mup)
        let model = TransformerLMModel(config: c)
        let params = c.initialize(key: RNGKey(seed: 4))
        ThreadIndependence.check(model, params: params, batch: Self.batch(c, size: 8, seed: 6))
    }
}
