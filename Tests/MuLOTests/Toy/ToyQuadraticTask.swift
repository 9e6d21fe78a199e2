import Foundation
@testable import MuLO

/// A test-only task family, `toyquad-w{W}-d{D}`: D tensors (a W×W matrix, then vectors of W)
/// pulled towards noisy targets, loss ½·mean_b Σ_i a_i·(p_i − x_{b,i})² with fixed curvatures
/// a_i. It exists to show that a new family is one folder plus `TaskRegistry.register`.
struct ToyQuadraticSpec: TaskSpec {
    let width: Int, depth: Int
    var parametrization: Parametrization { .mup }
    var description: String { "toyquad-w\(width)-d\(depth)" }

    static let family = TaskRegistry.Family(prefixes: ["toyquad"], forms: "toyquad-w{W}-d{D}") { name in
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[1].first == "w", parts[2].first == "d",
              let w = Int(parts[1].dropFirst()), let d = Int(parts[2].dropFirst()), w >= 1, d >= 1 else {
            throw TaskError("task '\(name)': expected toyquad-w{W}-d{D}")
        }
        return ToyQuadraticSpec(width: w, depth: d)
    }

    func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec {
        ToyQuadraticSpec(width: width, depth: depth)
    }

    func buildTask(dataDir: String?) throws -> any Task { ToyQuadraticTask(spec: self) }
}

struct ToyQuadraticData: TaskData {
    let dim: Int
    var name: String { "toy-targets-\(dim)" }
    func count(_ split: DataSplit) throws -> Int { 1 << 20 }

    /// Targets 1 + 0.1·noise: example i of a batch draws from key.split(i).
    func sampleBatch(_ split: DataSplit, size: Int, key: RNGKey, into batch: inout Batch) throws {
        var x = [Float](repeating: 0, count: size * dim)
        key.fillNormal(&x, std: 0.1)
        batch = Batch(inputs: x.map { $0 + 1 }, labels: [Int32](repeating: 0, count: size), inputDim: dim)
    }

    func sequentialBatch(_ split: DataSplit, start: Int, size: Int, into batch: inout Batch) throws {
        try sampleBatch(split, size: size, key: RNGKey(seed: UInt64(start)), into: &batch)
    }
}

struct ToyQuadraticTask: Task {
    let spec: ToyQuadraticSpec
    var name: String { spec.description }
    var parametrization: Parametrization { .mup }
    var lossClipBound: Float { 50 }
    var parameterSpecs: [ParameterSpec] {
        (0..<spec.depth).map { i in
            i == 0 ? ParameterSpec(name: "m", shape: [spec.width, spec.width], layerClass: .hidden, updateScale: 1 / Float(spec.width))
                : ParameterSpec(name: "v\(i)", shape: [spec.width], layerClass: .bias, updateScale: 1)
        }
    }
    var data: any TaskData { ToyQuadraticData(dim: parameterCount) }
    /// a_i = 0.5 + (i mod 7)/7.
    var curvature: [Float] { (0..<parameterCount).map { 0.5 + Float($0 % 7) / 7 } }

    func initialize(key: RNGKey) -> [Tensor] {
        parameterSpecs.enumerated().map { i, s in
            var t = Tensor(zeros: s.shape)
            key.split(UInt64(i)).fillNormal(&t.data, std: 1)
            return t
        }
    }

    func makeWorkspace(batchSize: Int) -> TaskWorkspace { TaskWorkspace() }

    func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        let p = params.flatMap(\.data), a = curvature, n = parameterCount
        var loss = 0.0
        var g = [Float](repeating: 0, count: n)
        for b in 0..<batch.size {
            for i in 0..<n {
                let d = p[i] - batch.inputs[b * n + i]
                loss += 0.5 * Double(a[i] * d * d)
                g[i] += a[i] * d / Float(batch.size)
            }
        }
        var offset = 0
        for k in grads.indices {
            grads[k].data = Array(g[offset..<(offset + grads[k].count)])
            offset += grads[k].count
        }
        return Float(loss / Double(batch.size))
    }

    func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        var grads = zeroGradients()
        return (lossAndGradient(params, batch: batch, grads: &grads, workspace: workspace), 0)
    }

    func activations(_ params: [Tensor], batch: Batch) -> [[Float]] { params.map(\.data) }
}
