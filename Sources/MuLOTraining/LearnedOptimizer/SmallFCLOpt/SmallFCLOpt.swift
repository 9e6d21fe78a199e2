/// small_fc_lopt (METHOD §2) as a learned-optimizer architecture; `LOConfig` is its fixed
/// configuration, `LearnedOptimizer` its inner optimizer and `LOState` that optimizer's state.
public struct SmallFCLOpt: LearnedOptimizerArchitecture {
    public static let name = "small_fc_lopt"
    public var config: LOConfig

    public init(_ config: LOConfig) { self.config = config }

    public var parametrization: Parametrization { config.parametrization }
    public var displayName: String { parametrization == .mup ? "μLO" : "LO (SP)" }
    public var thetaNames: [String] { LOTheta.names }
    public var thetaShapes: [[Int]] { LOTheta.shapes(hidden: config.hiddenSize) }
    /// METHOD §8.2: 16 per-element features into H hidden units, H×H, H×2 — 3.2 kFLOP at H = 32
    /// (the features, sums and exp, ~100 more, left out).
    public var flopsPerParameter: Double { let h = Double(config.hiddenSize); return 2 * (16 * h + h * h + 2 * h) }

    public func initialTheta(key: RNGKey) -> MetaParameters { LOTheta.initial(key: key, hidden: config.hiddenSize).parameters }

    public func makeOptimizer(theta: MetaParameters) -> LearnedOptimizer {
        // Callers check θ against `thetaShapes` when they read or make it.
        LearnedOptimizer(theta: try! LOTheta(theta), config: config)
    }

    /// The momentum decays θ's offsets give (METHOD §2.1) must lie in [0, 1]: outside it the
    /// momenta grow without bound or flip sign every step. The RMS and Adafactor decays need no
    /// check: the spec clips them to [0, 1] where they are used, so every offset is valid there
    /// (μLO_M's meta-training drove its first Adafactor decay to the clip at 0 by outer step 2700).
    public func checkTheta(_ theta: MetaParameters) throws {
        let momentum = LODecays(theta: try LOTheta(theta), config: config).momentum
        guard momentum.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw LOError("θ's momentum decays \(momentum) (after its offsets) must lie in [0, 1]")
        }
    }

    public func writeConfig(to file: HDF5File, on group: String) throws {
        try file.setAttribute("parametrization", config.parametrization.rawValue, on: group)
        try file.setAttribute("step_mult", Double(config.stepMult), on: group)
        try file.setAttribute("exp_mult", Double(config.expMult), on: group)
        try file.setAttribute("hidden_size", config.hiddenSize, on: group)
        try file.setAttribute("base_momentum_decays", config.baseMomentumDecays.map(Double.init), on: group)
        try file.setAttribute("base_rms_decays", config.baseRMSDecays.map(Double.init), on: group)
        try file.setAttribute("base_adafactor_decays", config.baseAdafactorDecays.map(Double.init), on: group)
    }

    public static func readConfig(from file: HDF5File, on g: String) throws -> SmallFCLOpt {
        let p = try file.attributeString("parametrization", on: g)
        guard let parametrization = Parametrization(rawValue: p) else {
            throw LOError("parametrization '\(p)' is neither 'mu' nor 'sp'")
        }
        let config = LOConfig(parametrization: parametrization,
                              stepMult: Float(try file.attributeDouble("step_mult", on: g)),
                              expMult: Float(try file.attributeDouble("exp_mult", on: g)),
                              hiddenSize: try file.attributeInt("hidden_size", on: g),
                              baseMomentumDecays: try file.attributeDoubles("base_momentum_decays", on: g).map(Float.init),
                              baseRMSDecays: try file.attributeDoubles("base_rms_decays", on: g).map(Float.init),
                              baseAdafactorDecays: try file.attributeDoubles("base_adafactor_decays", on: g).map(Float.init))
        try config.validate()
        return SmallFCLOpt(config)
    }

    public var settingsDescription: [String: String] {
        ["parametrization": config.parametrization.rawValue, "step_mult": "\(config.stepMult)", "exp_mult": "\(config.expMult)"]
    }
}

extension LOState: LearnedOptimizerState {
    public var counters: [(name: String, value: Int)] { [("lo_step", Int(step))] }

    public mutating func setCounters(_ values: [Int]) throws {
        guard values.count == 1, let t = Int32(exactly: values[0]), t >= 0 else {
            throw LOError("learned-optimizer step counter \(values) is not one int32 ≥ 0")
        }
        step = t
    }

    public func arrays(tensor k: Int) -> [StateArray] { tensors[k].stateArrays }

    public mutating func setArrays(tensor k: Int, _ values: [[Float]]) throws { try tensors[k].setStateArrays(values) }

}
