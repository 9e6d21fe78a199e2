import Foundation
import Testing
@testable import MuLO
@testable import MuLOTraining

/// The ViT tasks against the JAX golden file, finite differences and the spec's closed forms (§3).
@Suite("vision transformer", .serialized)
struct ViTTests {
    @Test(arguments: ReferenceChecker.visionGroups)
    func matchesTheReference(group: String) throws {
        let file = try HDF5File.open(LanguageModelTests.goldenPath)
        let checks = try ReferenceChecker.checkViT(file, group: group)
        #expect(checks.count == 2 + 2 * (try file.attributeStrings("param_names", on: group).count))
        for c in checks where !c.passed { Issue.record("\(c.line)") }
    }

    static func config(_ p: Parametrization, depth: Int = 2, corrected: Bool = false) -> ViTConfig {
        ViTConfig(width: 16, depth: depth, heads: 2, imageHeight: 8, imageWidth: 8, channels: 2, patch: 4, border: 1,
                  classes: 5, parametrization: p, correctedMuP: corrected)
    }

    /// Images of the dataset's size (6×6×2 inside the 1-pixel border) with labels.
    static func batch(size: Int, seed: UInt64) -> Batch {
        var x = [Float](repeating: 0, count: size * 72)
        RNGKey(seed: seed).fillNormal(&x)
        return Batch(inputs: x, labels: (0..<size).map { Int32($0 % 5) }, inputDim: 72)
    }

    @Test(arguments: [(Parametrization.mup, 1, false), (.mup, 3, true), (.standard, 2, false)])
    func gradientsMatchFiniteDifferences(parametrization: Parametrization, depth: Int, corrected: Bool) {
        let c = Self.config(parametrization, depth: depth, corrected: corrected)
        let model = ViTModel(config: c)
        let batch = Self.batch(size: 3, seed: 4)
        GradientCheck.directional(GradientCheck.perturbed(c.initialize(key: RNGKey(seed: 2))), names: c.parameterSpecs.map(\.name),
                                  lossAndGradient: { p, g in model.lossAndGradient(p, batch: batch, grads: &g, workspace: model.makeWorkspace(batchSize: 3)) },
                                  loss: { model.evaluate($0, batch: batch, workspace: model.makeWorkspace(batchSize: 3)).loss })
    }

    /// §3.2: both heads start at zero, so only the head's gradients are non-zero at step 0; the SP
    /// head's bias is zero too, so its init loss is exactly ln C.
    @Test(arguments: Parametrization.allCases)
    func onlyTheHeadLearnsAtInit(parametrization: Parametrization) {
        let c = Self.config(parametrization)
        let model = ViTModel(config: c)
        let params = c.initialize(key: RNGKey(seed: 1))
        var grads = c.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let loss = model.lossAndGradient(params, batch: Self.batch(size: 4, seed: 3), grads: &grads, workspace: model.makeWorkspace(batchSize: 4))
        for (k, g) in grads.enumerated() where k < c.head {
            #expect(g.data.allSatisfy { $0 == 0 }, "\(c.parameterSpecs[k].name) has a non-zero gradient at init")
        }
        #expect(grads[c.head].data.contains { $0 != 0 })
        if parametrization == .standard { #expect(abs(loss - log(5)) < 1e-6) }
    }

    @Test(arguments: ["vit_sp", "vit_mu", "vit_sp_p7", "vit_mu_p7"])
    func initialisationMatchesTheReferenceStatistics(model: String) throws {
        let file = try HDF5File.open(LanguageModelTests.goldenPath)
        let g = "init_stats/\(model)"
        let image = try file.attributeInts("image_shape", on: g)
        let c = ViTConfig(width: try file.attributeInt("width", on: g), depth: try file.attributeInt("depth", on: g),
                          heads: try file.attributeInt("heads", on: g), imageHeight: image[0], imageWidth: image[1], channels: image[2],
                          patch: try file.attributeInts("patch", on: g)[0], classes: try file.attributeInt("classes", on: g),
                          parametrization: model.hasPrefix("vit_mu") ? .mup : .standard)
        InitStatistics.compare(file, group: g, specs: c.parameterSpecs, params: c.initialize(key: RNGKey(seed: 12)))
    }

    /// §4.1: P = D·(12W² + 13W) + (p + T + 4)·W + W·C + C, whatever the heads.
    @Test func parameterCountsFollowTheClosedForm() {
        for (w, h, d) in [(64, 4, 3), (128, 2, 2), (96, 3, 1)] {
            let c = ViTConfig(width: w, depth: d, heads: h, imageHeight: 32, imageWidth: 32, channels: 3, patch: 16, classes: 1000,
                              parametrization: .mup)
            #expect(c.parameterSpecs.reduce(0) { $0 + $1.count } == d * (12 * w * w + 13 * w) + (768 + 5 + 4) * w + w * 1000 + 1000)
        }
    }

    /// The reference layout pads Fashion-MNIST to 32×32 with patch 16: 4 patches and the class token;
    /// `-p7` cuts the unpadded image into 16 patches.
    @Test(.enabled(if: Support.fashionMNISTAvailable)) func fashionMNISTLayouts() throws {
        let padded = try #require(try TaskRegistry.makeTask("muvit-w32-d1_fashionmnist-28x28x1") as? ViTTask)
        #expect(padded.config.tokens == 5 && padded.config.border == 2 && padded.config.patchDim == 256)
        let p7 = try #require(try TaskRegistry.makeTask("vit-w32-d1-p7_fashionmnist-28x28x1") as? ViTTask)
        #expect(p7.config.tokens == 17 && p7.config.border == 0)
    }

    /// The border reads as zeros: a patch straddling it equals the image's pixels with zeros around.
    @Test func patchesIncludeTheZeroBorder() {
        let model = ViTModel(config: Self.config(.mup))
        let images = (0..<72).map { Float($0 + 1) }
        var out = [Float](repeating: -1, count: 4 * 32)
        images.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { model.extractPatches(x.baseAddress!, batch: 1, into: $0.baseAddress!) } }
        // Patch 0, row 0 is all border; row 1 starts with a border pixel (2 channels) then pixel (0, 0).
        #expect(Array(out[0..<8]) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(out[8..<14]) == [0, 0, 1, 2, 3, 4])
    }

    /// Every patch element against the definition (pixel (y − border, x − border) of the image, 0
    /// outside it), with borders thinner and thicker than a patch (whole patches of zeros) and two
    /// images, so patch rows, patches and images all meet their neighbours.
    @Test(arguments: [0, 1, 5])
    func patchesAreTheImageWithItsBorder(border: Int) {
        let (side, patch, channels) = (12, 4, 2), inner = 12 - 2 * border
        let c = ViTConfig(width: 16, depth: 1, heads: 2, imageHeight: side, imageWidth: side, channels: channels, patch: patch,
                          border: border, classes: 5, parametrization: .mup)
        let images = (0..<(2 * inner * inner * channels)).map { Float($0 + 1) }
        var out = [Float](repeating: -1, count: 2 * 9 * patch * patch * channels)
        images.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { ViTModel(config: c).extractPatches(x.baseAddress!, batch: 2, into: $0.baseAddress!) } }
        var expected: [Float] = []
        for b in 0..<2 {
            for gy in 0..<3 { for gx in 0..<3 { for ky in 0..<patch { for kx in 0..<patch { for ch in 0..<channels {
                let (y, x) = (gy * patch + ky - border, gx * patch + kx - border)
                let inside = (0..<inner).contains(y) && (0..<inner).contains(x)
                expected.append(inside ? images[((b * inner + y) * inner + x) * channels + ch] : 0)
            } } } } }
        }
        #expect(out == expected)
    }

    @Test(arguments: ["muvit-w30-d1-h4_fashionmnist-28x28x1", "vit-w32-d1-p5_fashionmnist-28x28x1", "vit-w32-d1-corrected_fashionmnist-28x28x1",
                      "muvit-w32-d0_fashionmnist-28x28x1", "muvit-w32-d1-q3_fashionmnist-28x28x1"])
    func badNamesAreClearErrors(name: String) {
        #expect(throws: TaskError.self) { try TaskRegistry.parse(name) }
    }

    @Test func threadCountDoesNotChangeLossOrGradients() {
        let c = ViTConfig(width: 64, depth: 2, heads: 4, imageHeight: 32, imageWidth: 32, channels: 1, patch: 8, classes: 10,
                          parametrization: .mup)
        let model = ViTModel(config: c)
        let params = GradientCheck.perturbed(c.initialize(key: RNGKey(seed: 4)))
        var x = [Float](repeating: 0, count: 16 * 1024)
        RNGKey(seed: 8).fillNormal(&x)
        ThreadIndependence.check(model, params: params, batch: Batch(inputs: x, labels: (0..<16).map { Int32($0 % 10) }, inputDim: 1024))
    }
}
