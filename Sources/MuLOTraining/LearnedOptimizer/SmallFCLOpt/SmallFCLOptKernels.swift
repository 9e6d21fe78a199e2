import CKernels

extension LOKernelLayout {
    /// small_fc_lopt (METHOD §2.5): 28 normalised features, hidden 32; the time features are
    /// not normalised and fold into layer 0's bias (`FastLOStep.smallFCLOpt`).
    static let smallFCLOpt = LOKernelLayout(
        hidden: 32, featureCount: 28, sweep1Features: Array(0..<10), facG: [10, 11, 12], facMom: [25, 26, 27],
        rValue: [13, 14, 15], rRsqrt: [19, 20, 21], cValue: [16, 17, 18], cRsqrt: [22, 23, 24], paramFeature: 1,
        matrixRows: (Array(0...12) + [25, 26, 27]).map { [$0] },
        vectorRows: (0...12).map { [$0] } + (0..<3).map { [13 + $0, 16 + $0] } + (0..<3).map { [19 + $0, 22 + $0] }
            + (25...27).map { [$0] },
        vectorSumOrder: Array(0..<13) + [13, 14, 15, 13, 14, 15, 16, 17, 18, 16, 17, 18, 19, 20, 21],
        sweep1Matrix: mulo_lo_sweep1_matrix, sweep2Matrix: mulo_lo_sweep2_matrix, applyMatrix: mulo_lo_apply_matrix,
        sweep1Vector: mulo_lo_sweep1_vector, applyVector: mulo_lo_apply_vector)
}

extension FastLOStep {
    /// small_fc_lopt's fast step at step t: layer 0's bias is b0 + Σ_r τ_r·w0[28 + r], the time
    /// features being constant over a step.
    static func smallFCLOpt(theta: LOTheta, decays: LODecays, config: LOConfig, step: Int32, scratch: LOScratch) -> FastLOStep {
        precondition(theta.hiddenSize == LOKernelLayout.smallFCLOpt.hidden, "the fast path is built for hidden size 32; use the reference path")
        let h = theta.hiddenSize, tau = timeFeatures(step: step)
        let bias = (0..<h).map { j in
            var b = theta.b0.data[j]
            for r in 0..<11 { b += tau[r] * theta.w0.data[(28 + r) * h + j] }
            return b
        }
        return FastLOStep(layout: .smallFCLOpt, w0: theta.w0.data, bias0: bias, w1: theta.w1.data, b1: theta.b1.data,
                          w2: theta.w2.data, b2: theta.b2.data, decays: decays, stepMult: config.stepMult,
                          expMult: config.expMult, scratch: scratch)
    }
}
