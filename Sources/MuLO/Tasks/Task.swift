import Foundation

/// μP layer classes (METHOD §3.1); they decide initialisation, multipliers and update scale.
public enum LayerClass: String, Sendable, Codable {
    case input, hidden, output, bias
}

public enum Parametrization: String, Sendable, Codable, CaseIterable {
    /// Standard parametrization (`mlp-…` tasks, SP learned optimizers).
    case standard = "sp"
    /// Maximal Update Parametrization (`mumlp-…` tasks, μLOs).
    case mup = "mu"
}

/// One optimizee tensor: its name, logical shape ([fan_in, fan_out] for matrices), class and
/// the per-tensor update scale s_W that μP optimizers multiply their step by.
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let layerClass: LayerClass
    public let updateScale: Float

    public init(name: String, shape: [Int], layerClass: LayerClass, updateScale: Float) {
        self.name = name
        self.shape = shape
        self.layerClass = layerClass
        self.updateScale = updateScale
    }

    public var count: Int { shape.reduce(1, *) }
}

/// Scratch memory a task reuses across steps (activations, logits).
open class TaskWorkspace {
    public init() {}
}

/// One training problem (METHOD §1): model, data, minibatch loss and initialisation.
public protocol Task: Sendable {
    var name: String { get }
    var parameterSpecs: [ParameterSpec] { get }
    var dataset: ImageDataset { get }
    var parametrization: Parametrization { get }

    func initialize(key: RNGKey) -> [Tensor]
    func makeWorkspace(batchSize: Int) -> TaskWorkspace
    /// Mean minibatch loss at `params`; writes d(loss)/d(params) into `grads` (same shapes).
    func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float
    /// Mean loss and accuracy on a batch, without gradients.
    func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float)
}

extension Task {
    public var classes: Int { dataset.classes }
    public var updateScales: [Float] { parameterSpecs.map(\.updateScale) }
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }

    /// The meta-loss normaliser's upper bound, 1.5·ln C (METHOD §4.1).
    public var lossClipBound: Float { 1.5 * Float(Foundation.log(Double(classes))) }

    /// Clips a loss to [0, 1.5·ln C]; NaN and ±∞ become the bound.
    public func normalizedLoss(_ loss: Float) -> Float {
        loss.isFinite ? min(max(loss, 0), lossClipBound) : lossClipBound
    }

    public func zeroGradients() -> [Tensor] { parameterSpecs.map { Tensor(zeros: $0.shape) } }

    /// Mean loss and accuracy over the first `limit` examples of `split`, in chunks.
    public func evaluate(_ params: [Tensor], split: DataSplit, limit: Int = 10_000, chunk: Int = 1000) throws -> (loss: Float, accuracy: Float) {
        let n = min(limit, try dataset.count(split))
        let workspace = makeWorkspace(batchSize: min(chunk, n))
        var batch = Batch()
        var lossSum = 0.0, accSum = 0.0
        var start = 0
        while start < n {
            let size = min(chunk, n - start)
            try dataset.sequentialBatch(split, start: start, size: size, into: &batch)
            let (l, a) = evaluate(params, batch: batch, workspace: workspace)
            lossSum += Double(l) * Double(size)
            accSum += Double(a) * Double(size)
            start += size
        }
        return (Float(lossSum / Double(n)), Float(accSum / Double(n)))
    }
}

/// A distribution over tasks (METHOD §1). μLO wraps each fixed task as a one-member family.
public protocol TaskFamily: Sendable {
    var name: String { get }
    /// A task configuration drawn with `key` (the task's name, for MLP families).
    func sample(key: RNGKey) -> String
    func task(_ config: String) throws -> any Task
}

/// The one-member family of a fixed task: every sample is that task.
public struct SingleTaskFamily: TaskFamily {
    public let fixed: any Task
    public init(_ task: any Task) { fixed = task }
    public var name: String { fixed.name }
    public func sample(key: RNGKey) -> String { fixed.name }
    public func task(_ config: String) throws -> any Task {
        guard config == fixed.name else {
            throw TaskError("family \(name) holds only \(fixed.name), not \(config)")
        }
        return fixed
    }
}

public struct TaskError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
