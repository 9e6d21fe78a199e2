import Foundation
import MuLO
import Testing

@Suite("MLP tasks")
struct TaskTests {
    @Test func goldenMuMLPTask() throws {
        let file = try HDF5File.open(Support.goldenPath)
        let checks = try ReferenceChecker.checkMuMLPTask(file)
        #expect(checks.count == 2 + 2 * 8)
        for c in checks { #expect(c.passed, "\(c.line)") }
    }

    /// METHOD §3.2 restated independently in float64: z_l = mult_l·(h·W + b), ReLU between,
    /// mean softmax cross-entropy.
    static func referenceLoss(_ config: MLPConfig, _ params: [[Double]], x: [Double], y: [Int32]) -> Double {
        let sizes = [config.inputDim] + config.hiddenWidths + [config.classes]
        let L = sizes.count - 1, batch = y.count
        var h = x
        for l in 0..<L {
            let (fanIn, fanOut) = (sizes[l], sizes[l + 1])
            let mult: Double = config.parametrization == .standard ? 1
                : (l == 0 ? Double(config.inputMult) : (l == L - 1 ? Double(config.outputMult) / Double(fanIn) : 1))
            var z = [Double](repeating: 0, count: batch * fanOut)
            for r in 0..<batch {
                for j in 0..<fanOut {
                    var s = params[2 * l + 1][j]
                    for i in 0..<fanIn { s += h[r * fanIn + i] * params[2 * l][i * fanOut + j] }
                    z[r * fanOut + j] = l < L - 1 ? max(0, mult * s) : mult * s
                }
            }
            h = z
        }
        var loss = 0.0
        for r in 0..<batch {
            let row = h[(r * config.classes)..<((r + 1) * config.classes)]
            let m = row.max()!
            loss += log(row.reduce(0) { $0 + exp($1 - m) }) + m - row[r * config.classes + Int(y[r])]
        }
        return loss / Double(batch)
    }

    static let depths: [[Int]] = [[7], [7, 5], [7, 5, 6], [7, 5, 6, 3]]

    @Test(arguments: Parametrization.allCases, depths)
    func gradientsMatchFiniteDifferences(parametrization: Parametrization, hidden: [Int]) throws {
        let config = MLPConfig(inputDim: 9, hiddenWidths: hidden, classes: 4, parametrization: parametrization,
                               inputMult: 1.5, outputMult: 2)
        let model = MLPModel(config: config)
        let key = RNGKey(seed: UInt64(hidden.count))
        // Random non-zero values everywhere (a zero μP readout would zero every hidden gradient).
        let params = config.parameterSpecs.enumerated().map { i, s in
            var t = Tensor(zeros: s.shape)
            key.split(UInt64(i)).fillNormal(&t.data, std: 0.7)
            return t
        }
        var x = [Float](repeating: 0, count: 6 * 9)
        key.split(100).fillNormal(&x)
        let y: [Int32] = [0, 3, 1, 2, 3, 1]
        let batch = Batch(inputs: x, labels: y, inputDim: 9)
        var grads = config.parameterSpecs.map { Tensor(zeros: $0.shape) }
        let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: model.makeWorkspace(batchSize: 6))

        var p64 = params.map { $0.data.map(Double.init) }
        let x64 = x.map(Double.init)
        #expect(abs(Double(loss) - Self.referenceLoss(config, p64, x: x64, y: y)) < 1e-5)
        let h = 1e-6
        for t in p64.indices {
            for i in p64[t].indices {
                let saved = p64[t][i]
                p64[t][i] = saved + h
                let up = Self.referenceLoss(config, p64, x: x64, y: y)
                p64[t][i] = saved - h
                let down = Self.referenceLoss(config, p64, x: x64, y: y)
                p64[t][i] = saved
                let fd = (up - down) / (2 * h)
                let analytic = Double(grads[t].data[i])
                #expect(abs(analytic - fd) <= 2e-5 + 1e-3 * abs(fd),
                        "\(config.parameterSpecs[t].name)[\(i)]: analytic \(analytic) vs fd \(fd)")
            }
        }
    }

    /// Truncated normal at ±2σ without rescaling has std 0.87962·σ.
    @Test func muPInitialisationStatistics() throws {
        let config = MLPConfig(inputDim: 3000, hiddenWidths: [1500, 1500], classes: 10, parametrization: .mup)
        let p = config.initialize(key: RNGKey(seed: 9))
        for (i, fanIn) in [(0, 3000.0), (2, 1500.0)] {
            let (mean, std) = Support.meanStd(p[i].data)
            #expect(abs(mean) < 1e-4)
            #expect(abs(std * fanIn.squareRoot() - 0.87962) < 0.004)
            #expect(p[i].data.allSatisfy { Double(abs($0)) <= 2 / fanIn.squareRoot() + 1e-7 })
        }
        #expect(p[4].data.allSatisfy { $0 == 0 })  // zero readout
        let biases = p[1].data + p[3].data + p[5].data
        let (bm, bs) = Support.meanStd(biases)
        #expect(abs(bm) < 0.08 && abs(bs - 1) < 0.06)
        #expect(p[1].data != p[3].data)  // every tensor draws its own stream
    }

    @Test func spInitialisationStatistics() throws {
        let config = MLPConfig(inputDim: 2000, hiddenWidths: [1000], classes: 1000, parametrization: .standard)
        let p = config.initialize(key: RNGKey(seed: 10))
        let (_, std) = Support.meanStd(p[2].data)  // the readout is initialised like any layer
        #expect(abs(std * 1000.0.squareRoot() - 0.87962) < 0.004)
        #expect(p[1].data.allSatisfy { $0 == 0 } && p[3].data.allSatisfy { $0 == 0 })
    }

    @Test func updateScalesAndMultipliers() throws {
        let mu = MLPConfig(inputDim: 784, hiddenWidths: [128, 128, 128], classes: 10, parametrization: .mup)
        let muScales: [Float] = [1, 1, 1.0 / 128, 1, 1.0 / 128, 1, 1, 1]
        #expect(mu.parameterSpecs.map(\.updateScale) == muScales)
        #expect(mu.parameterSpecs.map(\.layerClass) == [.input, .bias, .hidden, .bias, .hidden, .bias, .output, .bias])
        #expect((0..<4).map(mu.multiplier) == [1, 1, 1, 1.0 / 128])
        let sp = MLPConfig(inputDim: 784, hiddenWidths: [64, 64], classes: 10, parametrization: .standard)
        #expect(sp.parameterSpecs.allSatisfy { $0.updateScale == 1 })
        #expect((0..<3).map(sp.multiplier) == [1, 1, 1])
        let narrow = MLPConfig(inputDim: 784, hiddenWidths: [32, 64], classes: 10, parametrization: .mup)
        #expect(narrow.parameterSpecs[2].updateScale == 1.0 / 32)  // absolute 1/fan_in
        #expect(narrow.multiplier(2) == 1.0 / 64)
    }

    @Test func taskNamesParse() throws {
        let n = try MLPTaskName(parsing: "mumlp-w128-d3_fashionmnist-28x28x1")
        #expect(n.parametrization == .mup && n.width == 128 && n.depth == 3)
        #expect(n.dataset == DatasetName(name: "fashionmnist", height: 28, width: 28, channels: 1))
        #expect(n.description == "mumlp-w128-d3_fashionmnist-28x28x1")
        let sp = try MLPTaskName(parsing: "mlp-w1-d16_imagenet-32x32x3")
        #expect(sp.parametrization == .standard && sp.width == 1 && sp.depth == 16)
        let task = try MLPTaskName(parsing: "mumlp-w16-d2_synthetic-4x4x1").makeMLPTask()
        #expect(task.parameterCount == 16 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10)
    }

    @Test(arguments: ["mumlp-w0-d3_fashionmnist-28x28x1", "mumlp-w128-d0_fashionmnist-28x28x1",
                      "cnn-w128-d3_fashionmnist-28x28x1", "mumlp-w128-d3", "mumlp-128-d3_fashionmnist-28x28x1",
                      "mumlp-w128-d3_fashionmnist", "mumlp-wX-d3_fashionmnist-28x28x1", ""])
    func malformedTaskNamesListTheValidForms(name: String) {
        let e = #expect(throws: TaskError.self) { try TaskRegistry.parse(name) }
        #expect(e?.message.contains("mumlp-w{W}-d{D}_{dataset}") == true)
    }
}
