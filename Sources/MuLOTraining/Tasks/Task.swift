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

/// Examples a task trains and evaluates on, in splits (METHOD §5): images with labels, and any
/// other kind of example a `Batch` can hold. Batches are functions of their key or position.
public protocol TaskData: Sendable {
    var name: String { get }
    /// Examples in `split`; throws when the data has no such split.
    func count(_ split: DataSplit) throws -> Int
    /// `size` distinct random examples of `split`, chosen by `key`.
    func sampleBatch(_ split: DataSplit, size: Int, key: RNGKey, into batch: inout Batch) throws
    /// Examples `start..<start+size` of `split`, in order (for evaluation).
    func sequentialBatch(_ split: DataSplit, start: Int, size: Int, into batch: inout Batch) throws
}

extension ImageDataset: TaskData {}

/// One training problem (METHOD §1): model, data, minibatch loss and initialisation.
public protocol Task: Sendable {
    var name: String { get }
    var parameterSpecs: [ParameterSpec] { get }
    var data: any TaskData { get }
    var parametrization: Parametrization { get }
    /// The meta-loss normaliser's upper bound (METHOD §4.1), also the divergence bound of
    /// evaluation: 1.5·ln C for C-way classification.
    var lossClipBound: Float { get }

    func initialize(key: RNGKey) -> [Tensor]
    func makeWorkspace(batchSize: Int) -> TaskWorkspace
    /// Mean minibatch loss at `params`; writes d(loss)/d(params) into `grads` (same shapes).
    func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float
    /// Mean loss and accuracy on a batch, without gradients.
    func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float)
    /// The per-layer activations the μP coordinate check follows (METHOD §6.3), on `batch`.
    func activations(_ params: [Tensor], batch: Batch) -> [[Float]]
    /// Examples per forward pass of held-out evaluation: bounds its workspace (activations grow
    /// with examples × tokens for the transformers).
    var evaluationChunk: Int { get }
    /// FLOPs of one forward + backward pass on `batchSize` examples: 6 per multiply-accumulate
    /// of the forward pass (TRANSFORMERS §4.2); elementwise work is left out.
    func trainingFlops(batchSize: Int) -> Double
}

/// A model's mathematics apart from its data: what a task forwards to it.
public protocol TaskModel: Sendable {
    associatedtype Config: Sendable
    var config: Config { get }
    func makeWorkspace(batchSize: Int) -> TaskWorkspace
    func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float
    func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float)
    func activations(_ params: [Tensor], batch: Batch) -> [[Float]]
}

/// A task that is a `TaskModel` on some data: the model's methods are the task's.
public protocol ModelTask: Task {
    associatedtype Model: TaskModel
    var model: Model { get }
}

extension ModelTask {
    public var config: Model.Config { model.config }
    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { model.makeWorkspace(batchSize: batchSize) }

    public func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        model.lossAndGradient(params, batch: batch, grads: &grads, workspace: workspace)
    }

    public func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        model.evaluate(params, batch: batch, workspace: workspace)
    }

    public func activations(_ params: [Tensor], batch: Batch) -> [[Float]] { model.activations(params, batch: batch) }
}

/// 1.5·ln C, the loss bound of C-way classification (METHOD §4.1).
public func classificationLossBound(classes: Int) -> Float { 1.5 * Float(Foundation.log(Double(classes))) }

extension Task {
    public var updateScales: [Float] { parameterSpecs.map(\.updateScale) }
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }

    /// Refuses a training of this task that cannot fit: it holds at least its parameters and
    /// their gradients, float32.
    public func checkFitsInMemory() throws {
        try MemoryBudget.check(Double(parameterCount) * 8, "training \(name) (\(parameterCount) parameters)")
    }

    /// Clips a loss to [0, 1.5·ln C]; NaN and ±∞ become the bound.
    public func normalizedLoss(_ loss: Float) -> Float {
        loss.isFinite ? min(max(loss, 0), lossClipBound) : lossClipBound
    }

    public func zeroGradients() -> [Tensor] { parameterSpecs.map { Tensor(zeros: $0.shape) } }

    /// Where held-out evaluation reads: the test split where the data has one, else outer-valid.
    public var heldOutSplit: DataSplit { (try? data.count(.test)) != nil ? .test : .outerValid }

    /// Mean loss and accuracy over the first `limit` examples of `split`, in chunks.
    public var evaluationChunk: Int { 1000 }

    /// Dense layers: one MAC per weight per example.
    public func trainingFlops(batchSize: Int) -> Double {
        6 * Double(parameterSpecs.filter { $0.shape.count >= 2 }.reduce(0) { $0 + $1.count }) * Double(batchSize)
    }

    public func evaluate(_ params: [Tensor], split: DataSplit, limit: Int = 10_000) throws -> (loss: Float, accuracy: Float) {
        let n = min(limit, try data.count(split)), chunk = evaluationChunk
        let workspace = makeWorkspace(batchSize: min(chunk, n))
        var batch = Batch()
        var lossSum = 0.0, accSum = 0.0
        var start = 0
        while start < n {
            let size = min(chunk, n - start)
            try data.sequentialBatch(split, start: start, size: size, into: &batch)
            let (l, a) = evaluate(params, batch: batch, workspace: workspace)
            lossSum += Double(l) * Double(size)
            accSum += Double(a) * Double(size)
            start += size
        }
        return (Float(lossSum / Double(n)), Float(accSum / Double(n)))
    }
}
