/// One small protocol for every update rule, as in optax: make the state for some parameters,
/// then update parameters in place from gradients. `scales` are the task's per-tensor μP update
/// scales s_W; optimizers that are not μP-aware ignore them.
public protocol Optimizer: Sendable {
    associatedtype State: Sendable
    var name: String { get }
    func initialState(for params: [Tensor]) -> State
    func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State)
}

/// Runs an elementwise kernel over `count` elements in parallel chunks; `kernel(offset, n)`
/// processes elements offset..<offset+n. Elementwise results do not depend on the split.
func forEachElementChunk(_ count: Int, _ kernel: (Int, Int) -> Void) {
    Parallel.forEachChunk(count, minChunk: 1 << 16) { r in kernel(r.lowerBound, r.count) }
}
