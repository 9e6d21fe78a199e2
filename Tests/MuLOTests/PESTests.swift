import Foundation
import MuLO
import Testing

/// The estimator of METHOD §4.4 on scripted truncations, worked out by hand. ε = (1, −2),
/// σ = 0.5 so 1/(2σ²) = 2, and ξ = (0.5, 0.5) before the truncation, so ξ + ε = (1.5, −1.5).
@Suite("PES and ES estimators")
struct PESTests {
    let eps: [Float] = [1, -2]
    let xi0: [Float] = [0.5, 0.5]

    func run(_ r: TruncationRecord, _ kind: MetaConfig.Estimator = .pes) -> (GradientEstimator.Estimate, [Float]) {
        var xi = xi0
        let e = GradientEstimator.estimate(r, epsilon: eps, xi: &xi, sigma: 0.5, kind: kind)
        return (e, xi)
    }

    /// No episode end: Δ = (.5, 1, 1.5, 2, 2.5), A = 7.5/5 = 1.5, B = 0, ĝ = 2·1.5·(1.5, −1.5), ξ ← ξ + ε.
    @Test func continuingEpisode() {
        let r = TruncationRecord(lossPos: [1, 2, 3, 4, 5], lossNeg: [0.5, 1, 1.5, 2, 2.5],
                                 done: [false, false, false, false, false], mask: [true, true, true, true, true])
        let (e, xi) = run(r)
        #expect(e.a == 1.5 && e.b == 0)
        #expect(e.gradient == [4.5, -4.5])
        #expect(xi == [1.5, -1.5])
        #expect(e.loss == 2.25)  // (mean L⁺ 3 + mean L⁻ 1.5) / 2
    }

    /// An episode ends at step 2 (done), step 3 is the reset (mask 0), a new episode follows:
    /// Δ = (1, 1, ·, 3, 4), n = 4, A = 1/4, B = (1 + 3 + 4)/4 = 2 (the last training step of the
    /// old episode counts in B), ĝ = 2·(0.25·(1.5, −1.5) + 2·(1, −2)) = (4.75, −8.75), ξ ← ε.
    @Test func episodeBoundaryInsideTheTruncation() {
        let r = TruncationRecord(lossPos: [1, 2, 0, 4, 5], lossNeg: [0, 1, 0, 1, 1],
                                 done: [false, true, false, false, false], mask: [true, true, false, true, true])
        let (e, xi) = run(r)
        #expect(e.a == 0.25 && e.b == 2)
        #expect(e.gradient == [4.75, -8.75])
        #expect(xi == eps)
    }

    /// Done on the truncation's last step: A = 4/5, B = 1/5, ĝ = 2·(0.8·(1.5, −1.5) + 0.2·(1, −2)), ξ ← ε.
    @Test func episodeEndsOnTheLastStep() {
        let r = TruncationRecord(lossPos: [2, 2, 2, 2, 2], lossNeg: [1, 1, 1, 1, 1],
                                 done: [false, false, false, false, true], mask: [true, true, true, true, true])
        let (e, xi) = run(r)
        #expect(abs(e.a - 0.8) < 1e-7 && abs(e.b - 0.2) < 1e-7)
        #expect(abs(e.gradient[0] - 2.8) < 1e-6 && abs(e.gradient[1] - -3.2) < 1e-6)
        #expect(xi == eps)
    }

    /// A reset on the first step (the previous truncation ended an episode): that step's losses
    /// are ignored, n = 4, A = 1, ĝ = 2·(1.5, −1.5), ξ ← ξ + ε.
    @Test func resetMaskOnTheFirstStep() {
        let r = TruncationRecord(lossPos: [9, 2, 2, 2, 2], lossNeg: [0, 1, 1, 1, 1],
                                 done: [false, false, false, false, false], mask: [false, true, true, true, true])
        let (e, xi) = run(r)
        #expect(e.a == 1 && e.b == 0 && e.gradient == [3, -3] && xi == [1.5, -1.5])
    }

    /// Without persistence (ξ = 0) PES is ES; ES never touches ξ.
    @Test func esAndPESAgreeWithoutPersistence() {
        let key = RNGKey(seed: 3)
        for trial in 0..<20 {
            let k = key.split(UInt64(trial))
            var r = TruncationRecord()
            for s in 0..<10 {
                let done = k.uniform(at: UInt64(100 + s)) < 0.1, mask = k.uniform(at: UInt64(200 + s)) > 0.1
                r.append(pos: k.uniform(at: UInt64(s)), neg: k.uniform(at: UInt64(50 + s)), done: done, mask: mask)
            }
            var e = [Float](repeating: 0, count: 5)
            k.fillNormal(&e, std: 0.01)
            var xiPES = [Float](repeating: 0, count: 5), xiES = xiPES
            let pes = GradientEstimator.estimate(r, epsilon: e, xi: &xiPES, sigma: 0.01, kind: .pes)
            let es = GradientEstimator.estimate(r, epsilon: e, xi: &xiES, sigma: 0.01, kind: .es)
            for j in 0..<5 { #expect(abs(pes.gradient[j] - es.gradient[j]) <= 1e-6 * max(1, abs(es.gradient[j]))) }
            #expect(xiES == [0, 0, 0, 0, 0])
        }
    }

    /// On a smooth unrolled toy system the PES estimate, summed over the truncations of an
    /// episode and averaged over many particles, approaches the finite-difference gradient of
    /// the meta-objective J(θ) = Σ_truncations mean-loss, although each truncation only sees
    /// K steps. x₀ = 1, x_{t+1} = x_t − θ₀·x_t + 0.1·θ₁, loss x_t² before each step, T = 20, K = 5.
    @Test func pesApproachesTheFiniteDifferenceGradient() {
        let theta: [Double] = [0.15, 0.4]
        let (T, K, sigma) = (20, 5, Float(0.01))
        func step(_ x: Double, _ th: [Double]) -> Double { x - th[0] * x + 0.1 * th[1] }
        func objective(_ th: [Double]) -> Double {
            var x = 1.0, j = 0.0
            for _ in 0..<T { j += x * x / Double(K); x = step(x, th) }
            return j
        }
        let fd = (0..<2).map { d -> Double in
            var up = theta, down = theta
            up[d] += 1e-5
            down[d] -= 1e-5
            return (objective(up) - objective(down)) / 2e-5
        }
        var sum = [Double](repeating: 0, count: 2)
        let particles = 4000
        for p in 0..<particles {
            var (xp, xn) = (1.0, 1.0)
            var xi: [Float] = [0, 0]
            for trunc in 0..<(T / K) {
                var eps: [Float] = [0, 0]
                RNGKey(seed: 99).split(UInt64(p)).split(UInt64(trunc)).fillNormal(&eps, std: sigma)
                let plus = theta.enumerated().map { $1 + Double(eps[$0]) }
                let minus = theta.enumerated().map { $1 - Double(eps[$0]) }
                var r = TruncationRecord()
                for s in 0..<K {
                    r.append(pos: Float(xp * xp), neg: Float(xn * xn), done: trunc == T / K - 1 && s == K - 1, mask: true)
                    (xp, xn) = (step(xp, plus), step(xn, minus))
                }
                let e = GradientEstimator.estimate(r, epsilon: eps, xi: &xi, sigma: sigma, kind: .pes)
                for d in 0..<2 { sum[d] += Double(e.gradient[d]) }
            }
        }
        let pes = sum.map { $0 / Double(particles) }
        let scale = (fd[0] * fd[0] + fd[1] * fd[1]).squareRoot()
        for d in 0..<2 { #expect(abs(pes[d] - fd[d]) < 0.05 * scale, "PES \(pes) vs finite differences \(fd)") }
        // Truncated ES without persistence is biased here: it misses how θ shaped the state
        // carried into later truncations.
    }
}
