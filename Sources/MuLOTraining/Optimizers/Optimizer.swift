/// What an update may know of the run besides the gradients. Learned optimizers that read the
/// loss or the fraction of training done (VeLO) need it; the others ignore it.
public struct StepContext: Sendable, Equatable {
    /// This update's 0-based index within the run (within the episode in meta-training).
    public var step: Int
    /// The run's length in updates (the episode length in meta-training), when known.
    public var totalSteps: Int?
    /// The minibatch loss at the parameters being updated.
    public var loss: Float?

    public init(step: Int = 0, totalSteps: Int? = nil, loss: Float? = nil) {
        self.step = step
        self.totalSteps = totalSteps
        self.loss = loss
    }
}

/// One small protocol for every update rule, as in optax: make the state for some parameters,
/// then update parameters in place from gradients. `scales` are the task's per-tensor μP update
/// scales s_W; optimizers that are not μP-aware ignore them.
public protocol Optimizer: Sendable {
    /// Everything the optimizer carries from step to step, so a run saved mid-way resumes exactly.
    associatedtype State: OptimizerState
    var name: String { get }
    func initialState(for params: [Tensor]) -> State
    func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State, context: StepContext)
}

extension Optimizer {
    /// An update without run context, for rules that need none (and their tests).
    public func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State) {
        update(&params, grads: grads, scales: scales, state: &state, context: StepContext())
    }
}

/// Runs an elementwise kernel over `count` elements in parallel chunks; `kernel(offset, n)`
/// processes elements offset..<offset+n. Elementwise results do not depend on the split.
func forEachElementChunk(_ count: Int, _ kernel: (Int, Int) -> Void) {
    Parallel.forEachChunk(count, minChunk: 1 << 16) { r in kernel(r.lowerBound, r.count) }
}
