import CKernels

extension LOKernelLayout {
    /// VeLO's per-parameter MLP (VELO §1.5, §3): 30 normalised features, hidden 4. The kernels'
    /// per-element features are small_fc_lopt's in its order, then clip(g, ±0.1) and g·rsqrt(V).
    static let velo = LOKernelLayout(
        hidden: VeLOConfig.ffHidden, featureCount: VeLOConfig.features,
        sweep1Features: [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 14], facG: [11, 12, 13], facMom: [27, 28, 29],
        rValue: [15, 16, 17], rRsqrt: [21, 22, 23], cValue: [18, 19, 20], cRsqrt: [24, 25, 26], paramFeature: 2,
        matrixRows: ([0] + Array(2...13) + [27, 28, 29, 1, 14]).map { [$0] },
        vectorRows: ([0] + Array(2...13)).map { [$0] } + (0..<3).map { [15 + $0, 18 + $0] } + (0..<3).map { [21 + $0, 24 + $0] }
            + [[27], [28], [29], [1], [14]],
        vectorSumOrder: [0, 22, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 23, 13, 14, 15, 13, 14, 15, 16, 17, 18, 16, 17, 18, 19, 20, 21],
        sweep1Matrix: mulo_velo_sweep1_matrix, sweep2Matrix: mulo_velo_sweep2_matrix, applyMatrix: mulo_velo_apply_matrix,
        sweep1Vector: mulo_velo_sweep1_vector, applyVector: mulo_velo_apply_vector)
}
