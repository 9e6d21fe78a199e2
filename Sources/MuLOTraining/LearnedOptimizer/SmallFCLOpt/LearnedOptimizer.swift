/// small_fc_lopt (METHOD §2) behind the common optimizer protocol, so any task that trains with
/// Adam trains with it. The fast path (METHOD §8) is the default; the reference path follows
/// §2 literally and exists to test the fast one.
public struct LearnedOptimizer: Optimizer {
    public enum Implementation: String, Sendable, CaseIterable {
        case fast, reference
    }

    public var theta: LOTheta
    public var config: LOConfig
    public var implementation: Implementation

    public init(theta: LOTheta, config: LOConfig, implementation: Implementation = .fast) {
        precondition(theta.hiddenSize == config.hiddenSize, "θ hidden size \(theta.hiddenSize) ≠ config \(config.hiddenSize)")
        self.theta = theta
        self.config = config
        self.implementation = implementation
    }

    public var name: String { config.parametrization == .mup ? "mulo" : "lo" }

    public func initialState(for params: [Tensor]) -> LOState {
        LOState(shapes: params.map(\.shape))
    }

    public func update(_ params: inout [Tensor], grads: [Tensor], scales: [Float], state: inout LOState,
                       context: StepContext) {
        precondition(params.count == state.tensors.count && grads.count == params.count && scales.count == params.count)
        let decays = LODecays(theta: theta, config: config)
        // The fast kernels are built for hidden size 32 (the method's); other sizes use the reference path.
        let useFast = implementation == .fast && theta.hiddenSize == LOKernelLayout.smallFCLOpt.hidden
        if !isKnownUniquelyReferenced(&state.scratch) { state.scratch = LOScratch() }
        let fast = useFast ? FastLOStep.smallFCLOpt(theta: theta, decays: decays, config: config, step: state.step, scratch: state.scratch) : nil
        for k in params.indices {
            precondition(grads[k].count == params[k].count && state.tensors[k].count == params[k].count,
                         "tensor \(k): parameter, gradient and state sizes differ")
            if let fast, FastLOSweeps.handles(state.tensors[k]) {
                fast.update(&params[k].data, grad: grads[k].data, state: &state.tensors[k], scale: scales[k])
            } else {
                ReferenceLOStep.update(&params[k].data, grad: grads[k].data.map(GradientGuard.sanitize),
                                       state: &state.tensors[k], scale: scales[k], step: state.step,
                                       theta: theta, decays: decays, config: config)
            }
        }
        state.step &+= 1
    }
}
