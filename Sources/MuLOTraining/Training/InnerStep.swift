/// The inner training step every loop runs — draw a minibatch from a key, the loss and gradient
/// at the parameters, the optimizer's update — with the batch, gradient and workspace buffers
/// reused across steps. `train`, the meta-training particles, the coordinate check and the
/// benches all go through it, so they cannot drift apart. The three parts are separate because
/// callers put work between them: the antithetic copies of PES share one minibatch, and `train`
/// checks for divergence before updating.
public struct InnerStep {
    public let task: any Task
    public let batchSize: Int
    /// The per-tensor μP update scales s_W: the task's, unless the caller gives others.
    public let scales: [Float]
    public private(set) var batch = Batch()
    /// d(loss)/d(params) of the last `lossAndGradient`.
    public private(set) var grads: [Tensor]
    private let workspace: TaskWorkspace

    public init(task: any Task, batchSize: Int, scales: [Float]? = nil) {
        precondition(scales == nil || scales!.count == task.parameterSpecs.count, "one update scale per tensor")
        self.task = task
        self.batchSize = batchSize
        self.scales = scales ?? task.updateScales
        grads = task.zeroGradients()
        workspace = task.makeWorkspace(batchSize: batchSize)
    }

    /// Draws the training minibatch of `key`.
    public mutating func sample(key: RNGKey) throws {
        try task.data.sampleBatch(.train, size: batchSize, key: key, into: &batch)
    }

    /// The loss at `params` on the current minibatch; the gradient goes into `grads`.
    public mutating func lossAndGradient(at params: [Tensor]) -> Float {
        task.lossAndGradient(params, batch: batch, grads: &grads, workspace: workspace)
    }

    /// Updates `params` with `optimizer` from the current gradient.
    public func update<O: Optimizer>(_ params: inout [Tensor], with optimizer: O, state: inout O.State,
                                     context: StepContext) {
        optimizer.update(&params, grads: grads, scales: scales, state: &state, context: context)
    }
}
