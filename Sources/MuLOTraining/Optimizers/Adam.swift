import CKernels
import Foundation

/// Adam, AdamW and μAdam (METHOD §3.3) in one update rule:
///   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ)
///   p ← p − s·η·(m̂/(√v̂ + ε) + λ·p)
/// with decoupled weight decay λ (AdamW), and s = the task's s_W for μAdam, 1 otherwise.
public struct Adam: Optimizer {
    public struct State: Sendable {
        public var m: [Tensor]
        public var v: [Tensor]
        public var count: Int
    }

    public var schedule: Schedule
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var usesUpdateScales: Bool

    public init(schedule: Schedule, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, usesUpdateScales: Bool = false) {
        self.schedule = schedule
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.usesUpdateScales = usesUpdateScales
    }

    public static func adamW(schedule: Schedule, beta1: Float = 0.9, beta2: Float = 0.999,
                             weightDecay: Float = 1e-4) -> Adam {
        Adam(schedule: schedule, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
    }

    /// μAdam: Adam on the μP model with each tensor's step multiplied by s_W, no weight decay.
    public static func muAdam(schedule: Schedule, beta1: Float = 0.9, beta2: Float = 0.999) -> Adam {
        Adam(schedule: schedule, beta1: beta1, beta2: beta2, usesUpdateScales: true)
    }

    public var name: String { usesUpdateScales ? "muadam" : (weightDecay == 0 ? "adam" : "adamw") }

    public func initialState(for params: [Tensor]) -> State {
        let zeros = params.map { Tensor(zeros: $0.shape) }
        return State(m: zeros, v: zeros, count: 0)
    }

    public func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout State,
                       context: StepContext) {
        let lr = schedule.value(at: state.count)
        state.count += 1
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let (ib1, ib2) = biasCorrections(count: state.count)
        for k in params.indices {
            let count = params[k].count
            let step = lr * (usesUpdateScales ? scales[k] : 1)
            params[k].data.withUnsafeMutableBufferPointer { p in
                state.m[k].data.withUnsafeMutableBufferPointer { m in
                    state.v[k].data.withUnsafeMutableBufferPointer { v in
                        grads[k].data.withUnsafeBufferPointer { g in
                            let (p, m, v) = (SendablePointer(p.baseAddress!), SendablePointer(m.baseAddress!),
                                             SendablePointer(v.baseAddress!))
                            let g = SendablePointer(UnsafeMutablePointer(mutating: g.baseAddress!))
                            forEachElementChunk(count) { o, n in
                                mulo_adam_update(p.base + o, m.base + o, v.base + o, g.base + o, n,
                                                 b1, b2, ib1, ib2, eps, step, wd)
                            }
                        }
                    }
                }
            }
        }
    }

    /// 1/(1−β1ᵗ) and 1/(1−β2ᵗ) after `count` updates.
    func biasCorrections(count: Int) -> (Float, Float) {
        let t = Double(count)
        return (Float(1 / (1 - pow(Double(beta1), t))), Float(1 / (1 - pow(Double(beta2), t))))
    }

    /// The plain Swift loop of one tensor's update, which the C kernel is tested against.
    public func referenceUpdate(_ p: inout [Float], _ m: inout [Float], _ v: inout [Float], _ g: [Float],
                                scale: Float, count: Int) {
        let lr = schedule.value(at: count - 1) * (usesUpdateScales ? scale : 1)
        let (ib1, ib2) = biasCorrections(count: count)
        for i in p.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let direction = (m[i] * ib1) / ((v[i] * ib2).squareRoot() + epsilon)
            p[i] -= lr * (direction + weightDecay * p[i])
        }
    }
}
