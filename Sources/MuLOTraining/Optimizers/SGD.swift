import CKernels

/// SGD with heavy-ball momentum: v ← μ·v + g, p ← p − η·v (plain SGD when μ = 0).
public struct SGD: Optimizer {
    public struct State: Sendable {
        public var velocity: [Tensor]
        public var count: Int
    }

    public var schedule: Schedule
    public var momentum: Float

    public init(schedule: Schedule, momentum: Float = 0) {
        self.schedule = schedule
        self.momentum = momentum
    }

    public var name: String { "sgd" }

    public func initialState(for params: [Tensor]) -> State {
        State(velocity: params.map { Tensor(zeros: $0.shape) }, count: 0)
    }

    public func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State,
                       context: StepContext) {
        let lr = schedule.value(at: state.count), mu = momentum
        for k in params.indices {
            let count = params[k].count
            params[k].data.withUnsafeMutableBufferPointer { p in
                state.velocity[k].data.withUnsafeMutableBufferPointer { vel in
                    grads[k].data.withUnsafeBufferPointer { g in
                        let (p, vel, g) = (SendablePointer(p.baseAddress!), SendablePointer(vel.baseAddress!),
                                           SendablePointer(UnsafeMutablePointer(mutating: g.baseAddress!)))
                        forEachElementChunk(count) { o, n in
                            mulo_sgd_update(p.base + o, vel.base + o, g.base + o, n, mu, lr)
                        }
                    }
                }
            }
        }
        state.count += 1
    }

    /// The plain Swift loop the C kernel is tested against.
    public static func referenceUpdate(_ p: inout [Float], _ vel: inout [Float], _ g: [Float], mu: Float, lr: Float) {
        for i in p.indices {
            vel[i] = mu * vel[i] + g[i]
            p[i] -= lr * vel[i]
        }
    }
}
