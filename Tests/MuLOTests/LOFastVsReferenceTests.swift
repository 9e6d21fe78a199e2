import Foundation
import MuLO
import Testing

/// The fast path (METHOD §8) against the literal reference (METHOD §2), llm.c style.
@Suite("Learned optimizer: fast vs reference")
struct LOFastVsReferenceTests {
    static let shapes: [[Int]] = [[], [1], [7], [37], [300], [16, 16], [17, 17], [33, 5], [5, 33], [3, 1000],
                                  [1000, 3], [64, 48], [100, 10], [40, 1],
                                  // Rank 3–4 (TRANSFORMERS §5.3): q/k/v [W,H,d], out [H,d,W], patch [p,p,c,W],
                                  // cls and positions; [24, 24, 2] has neither D0 nor D1 last, so both run the reference rule.
                                  [64, 4, 16], [40, 2, 17], [4, 16, 64], [3, 40, 17], [4, 4, 3, 24], [1, 1, 40], [1, 5, 40],
                                  [24, 24, 2]]

    /// Runs `steps` updates of one tensor through both paths from identical inputs; returns the
    /// worst step error relative to the reference step's largest magnitude, per step.
    static func compare(shape: [Int], steps: Int, parametrization: Parametrization, seed: UInt64) -> [Float] {
        let n = max(1, shape.reduce(1, *))
        let theta = LOTheta.initial(key: RNGKey(seed: seed))
        let config = LOConfig(parametrization: parametrization)
        let fast = LearnedOptimizer(theta: theta, config: config, implementation: .fast)
        let reference = LearnedOptimizer(theta: theta, config: config, implementation: .reference)
        // The step is read back as p_new − p_old in float32; small parameters keep that subtraction
        // exact to ~1e-6 of an SP step (the p feature is normalised per tensor, so its scale is free).
        var p0 = Tensor(zeros: shape)
        RNGKey(seed: seed).split(1).fillNormal(&p0.data, std: 1e-3)
        var (pf, pr) = ([p0], [p0])
        var (sf, sr) = (fast.initialState(for: pf), reference.initialState(for: pr))
        sf.step = 40
        sr.step = 40
        var errors: [Float] = []
        for t in 0..<steps {
            var g = Tensor(zeros: shape)
            RNGKey(seed: seed).split(100 + UInt64(t)).fillNormal(&g.data, std: 0.01)
            let before = pr[0].data
            fast.update(&pf, grads: [g], scales: [0.5], state: &sf)
            reference.update(&pr, grads: [g], scales: [0.5], state: &sr)
            let stepRef = zip(pr[0].data, before).map { $0 - $1 }
            let stepFast = zip(pf[0].data, before).map { $0 - $1 }
            let scale = stepRef.map(abs).max()!
            let err = zip(stepFast, stepRef).map { abs($0 - $1) }.max()!
            errors.append(err / max(scale, .leastNormalMagnitude))
            // Continue both from the reference trajectory so errors do not compound.
            pf = pr
            sf.tensors = sr.tensors
        }
        #expect(n > 0)
        return errors
    }

    @Test(arguments: shapes, Parametrization.allCases)
    func fastMatchesReference(shape: [Int], parametrization: Parametrization) {
        let errors = Self.compare(shape: shape, steps: 3, parametrization: parametrization, seed: UInt64(shape.reduce(7, *)))
        for e in errors { #expect(e <= 1e-5, "shape \(shape): step error \(e) relative to the step's scale") }
    }

    @Test func fastMatchesReferenceOnAMillionElements() {
        let errors = Self.compare(shape: [1000, 1001], steps: 1, parametrization: .mup, seed: 3)
        #expect(errors[0] <= 1e-5, "step error \(errors[0])")
    }
}
