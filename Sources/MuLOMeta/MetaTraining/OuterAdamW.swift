import Foundation

/// The outer optimizer (METHOD §4.5): AdamW with decoupled weight decay on every entry of θ,
/// whose whole update u (learning rate and decay included) is clipped to L2 norm `clip`.
public struct OuterAdamW: Sendable, Equatable {
    public var m: [Float]
    public var v: [Float]
    /// Updates applied so far.
    public var count: Int

    public init(size: Int) {
        m = .init(repeating: 0, count: size)
        v = .init(repeating: 0, count: size)
        count = 0
    }

    /// θ ← θ + clip(u); returns the learning rate used and ‖u‖ before clipping.
    public mutating func step(_ theta: inout [Float], gradient g: [Float], config c: MetaConfig.OuterOptimizerSettings) -> (lr: Float, norm: Float) {
        let lr = c.schedule.value(at: count)
        count += 1
        let bc1 = Float(1 - pow(Double(c.beta1), Double(count))), bc2 = Float(1 - pow(Double(c.beta2), Double(count)))
        var u = [Float](repeating: 0, count: theta.count)
        var sq = 0.0
        for j in theta.indices {
            m[j] = c.beta1 * m[j] + (1 - c.beta1) * g[j]
            v[j] = c.beta2 * v[j] + (1 - c.beta2) * g[j] * g[j]
            u[j] = -lr * ((m[j] / bc1) / ((v[j] / bc2).squareRoot() + c.epsilon) + c.weightDecay * theta[j])
            sq += Double(u[j]) * Double(u[j])
        }
        let norm = Float(sq.squareRoot())
        let shrink: Float = norm > c.updateClip ? c.updateClip / norm : 1
        for j in theta.indices { theta[j] += u[j] * shrink }
        return (lr, norm)
    }
}
