import Foundation
import Testing
@testable import MuLO

/// TRANSFORMERS' μP claim, measured: across widths 64 → 512 every layer of the μP LM and ViT
/// moves by the same amount under μAdam and the shipped μLO, while SP Adam's hidden layers grow.
@Suite("transformer coordinate checks", .serialized)
struct TransformerCoordinateCheckTests {
    static let widths = [64, 128, 256, 512]

    /// A corpus file of pseudo-sentences, so the LM check needs no package.
    static func corpusDir() throws -> String {
        let dir = try Support.tempDir()
        let words = ["the", "a", "lady", "walked", "to", "house", "and", "said", "nothing", "of", "her", "sister", "Emma"]
        let key = RNGKey(seed: 5)
        var sentences: [String] = []
        for s in 0..<400 {
            let picks: [String] = (0..<(5 + s % 9)).map { words[key.integer(below: words.count, at: UInt64(s * 20 + $0))] }
            sentences.append(picks.joined(separator: " ") + ".")
        }
        let text = sentences.joined(separator: " ")
        try text.write(to: dir.appendingPathComponent("words.txt"), atomically: true, encoding: String.Encoding.utf8)
        return dir.path
    }

    static func run(_ template: String, _ p: Parametrization, _ make: @escaping () -> any Optimizer, batch: Int,
                    dataDir: String?) throws -> CoordinateCheck.Result {
        try CoordinateCheck.run(template: try TaskTemplate(template), widths: widths, depth: nil, parametrization: p,
                                optimizer: make, steps: 10, logSteps: [10], batch: batch, probeSize: 16, dataDir: dataDir)
    }

    @Test(arguments: ["mutransformer-w{W}-d2_words-s16-bytes", "muvit-w{W}-d2-p4_synthetic-16x16x1"])
    func muIsFlatAndSPGrows(template: String) throws {
        let dataDir = try Self.corpusDir()
        let lo = try LOCheckpoint.loadAny(Support.repoRoot.appendingPathComponent("Checkpoints/mulo-m-fashionmnist.h5").path)
        let batch = template.hasPrefix("mutransformer") ? 8 : 16
        let mu = try Self.run(template, .mup, { Adam.muAdam(schedule: .constant(1e-2)) }, batch: batch, dataDir: dataDir)
        let muLO = try Self.run(template, .mup, { lo.makeOptimizer() }, batch: batch, dataDir: dataDir)
        let sp = try Self.run(template, .standard, { Adam(schedule: .constant(1e-2)) }, batch: batch, dataDir: dataDir)
        for (label, r) in [("μAdam", mu), ("μLO", muLO)] {
            for l in 0..<r.layers {
                let g = r.growth(step: 0, layer: l)
                #expect(g >= 0.5 && g <= 2, "\(template) \(label) layer \(l): widest/narrowest \(g)")
            }
        }
        let spGrowth = (0..<sp.layers).map { sp.growth(step: 0, layer: $0) }.filter(\.isFinite).max() ?? 0
        #expect(spGrowth > 4, "\(template) SP Adam: largest growth \(spGrowth)")
    }
}
