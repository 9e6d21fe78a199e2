/// Placeholder replaced below.
struct FastLOStep {
    let theta: LOTheta, decays: LODecays, config: LOConfig, step: Int32
    func update(_ p: inout [Float], grad: [Float], state: inout LOTensorState, scale: Float) {
        ReferenceLOStep.update(&p, grad: grad.map(GradientGuard.sanitize), state: &state, scale: scale, step: step,
                               theta: theta, decays: decays, config: config)
    }
}
