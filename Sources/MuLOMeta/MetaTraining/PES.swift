/// What one particle recorded over one truncation of K inner steps.
public struct TruncationRecord: Sendable, Equatable {
    public var lossPos: [Float]
    public var lossNeg: [Float]
    /// Set on the last training step of an episode (METHOD §4.2).
    public var done: [Bool]
    /// 0 on reset steps.
    public var mask: [Bool]

    public init(lossPos: [Float] = [], lossNeg: [Float] = [], done: [Bool] = [], mask: [Bool] = []) {
        self.lossPos = lossPos
        self.lossNeg = lossNeg
        self.done = done
        self.mask = mask
    }

    public mutating func append(pos: Float, neg: Float, done d: Bool, mask m: Bool) {
        lossPos.append(pos)
        lossNeg.append(neg)
        done.append(d)
        mask.append(m)
    }

    /// The fraction of the counted (unmasked) losses of both copies that sit at the clip bound,
    /// i.e. of inner steps that diverged or were non-finite (0 when nothing was counted).
    public func fractionAtBound(_ bound: Float) -> Float {
        let counted = mask.indices.filter { mask[$0] }
        guard !counted.isEmpty else { return 0 }
        let hits = counted.reduce(0) { $0 + (lossPos[$1] >= bound ? 1 : 0) + (lossNeg[$1] >= bound ? 1 : 0) }
        return Float(hits) / Float(2 * counted.count)
    }
}

/// The gradient estimators of METHOD §4.4: persistent evolution strategies (PES, the default)
/// and truncated antithetic ES (no persistence).
public enum GradientEstimator {
    public struct Estimate: Sendable {
        public var gradient: [Float]
        /// The particle's logged loss, (Σ L⁺·mask/n + Σ L⁻·mask/n)/2.
        public var loss: Float
        /// The continuing-episode and after-episode-end parts.
        public var a: Float
        public var b: Float
        /// The truncation's `TruncationRecord.fractionAtBound` (set by the trainer, which knows the bound).
        public var atBound: Float = 0
    }

    /// One particle's estimate from one truncation. For PES, `xi` is the persistent accumulator
    /// ξ and is updated in place: ξ ← ε if an episode ended in the truncation, else ξ + ε.
    /// For ES, ĝ = (A + B)·ε/(2σ²) and ξ is left alone.
    public static func estimate(_ r: TruncationRecord, epsilon: [Float], xi: inout [Float], sigma: Float,
                                kind: MetaConfig.Estimator) -> Estimate {
        precondition(r.lossPos.count == r.lossNeg.count && r.done.count == r.mask.count && r.mask.count == r.lossPos.count)
        let n = r.mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        var a = 0.0, b = 0.0, pos = 0.0, neg = 0.0
        var finished = false
        for s in r.mask.indices {
            finished = finished || r.done[s]
            guard r.mask[s], n > 0 else { continue }
            let delta = Double(r.lossPos[s]) - Double(r.lossNeg[s])
            if finished { b += delta } else { a += delta }
            pos += Double(r.lossPos[s])
            neg += Double(r.lossNeg[s])
        }
        let norm = n > 0 ? 1 / Double(n) : 0
        let (fa, fb) = (Float(a * norm), Float(b * norm))
        let scale = 1 / (2 * sigma * sigma)
        var g = [Float](repeating: 0, count: epsilon.count)
        switch kind {
        case .pes:
            for j in g.indices {
                let persistent = xi[j] + epsilon[j]
                g[j] = (fa * persistent + fb * epsilon[j]) * scale
                xi[j] = finished ? epsilon[j] : persistent
            }
        case .es:
            for j in g.indices { g[j] = (fa + fb) * epsilon[j] * scale }
        }
        return Estimate(gradient: g, loss: Float((pos * norm + neg * norm) / 2), a: fa, b: fb)
    }
}
