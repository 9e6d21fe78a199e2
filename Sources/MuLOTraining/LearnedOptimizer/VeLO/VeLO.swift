/// VeLO and μVeLO as a learned-optimizer architecture (`theta@architecture` = "velo"): θ files
/// hold the 33 leaves under their Haiku names and the configuration as attributes.
public struct VeLO: LearnedOptimizerArchitecture {
    public static let name = "velo"
    public var config: VeLOConfig

    public init(_ config: VeLOConfig) { self.config = config }

    public var parametrization: Parametrization { config.parametrization }
    public var displayName: String { parametrization == .mup ? "μVeLO" : "VeLO" }
    public var thetaNames: [String] { config.thetaNames }
    public var thetaShapes: [[Int]] { config.thetaShapes }
    /// VELO §4.2: ~300 FLOP per element with the reductions of §3.4, whatever the sizes; per
    /// tensor the mixing, LSTM gates and heads (60H + 8H² + H·P + H MAC) and the interpolation
    /// of the bank (159·P MAC).
    public var flopsPerParameter: Double { 300 }
    public var flopsPerTensor: Double {
        let (h, p) = (Double(config.lstmHidden), Double(config.paramInits))
        return 2 * (60 * h + 8 * h * h + h * p + h + 159 * p)
    }
    public func initialTheta(key: RNGKey) -> MetaParameters { config.initialTheta(key: key) }
    public func makeOptimizer(theta: MetaParameters) -> VeLOOptimizer { VeLOOptimizer(config: config, theta: theta) }

    public func writeConfig(to file: HDF5File, on group: String) throws {
        let c = config
        try file.setAttribute("parametrization", c.parametrization.rawValue, on: group)
        try file.setAttribute("lstm_hidden_size", c.lstmHidden, on: group)
        try file.setAttribute("param_inits", c.paramInits, on: group)
        try file.setAttribute("ff_hidden_size", VeLOConfig.ffHidden, on: group)
        try file.setAttribute("interp_mult", Double(c.interpMult), on: group)
        try file.setAttribute("param_scale_mult", c.paramScaleMult ? 1 : 0, on: group)
        try file.setAttribute("step_mult", Double(c.stepMult), on: group)
        try file.setAttribute("exp_mult", Double(c.expMult), on: group)
        try file.setAttribute("use_bugged_loss_features", c.buggedLossFeatures ? 1 : 0, on: group)
        try file.setAttribute("reference_non_finite", c.referenceNonFinite ? 1 : 0, on: group)
    }

    public static func readConfig(from file: HDF5File, on g: String) throws -> VeLO {
        let p = try file.attributeString("parametrization", on: g)
        guard let parametrization = Parametrization(rawValue: p) else { throw LOError("parametrization '\(p)' is neither 'mu' nor 'sp'") }
        guard try file.attributeInt("ff_hidden_size", on: g) == VeLOConfig.ffHidden else {
            throw LOError("VeLO's per-parameter MLP has hidden size \(VeLOConfig.ffHidden) here")
        }
        let c = VeLOConfig(parametrization: parametrization, lstmHidden: try file.attributeInt("lstm_hidden_size", on: g),
                           paramInits: try file.attributeInt("param_inits", on: g),
                           interpMult: Float(try file.attributeDouble("interp_mult", on: g)),
                           paramScaleMult: try file.attributeInt("param_scale_mult", on: g) != 0,
                           stepMult: Float(try file.attributeDouble("step_mult", on: g)),
                           expMult: Float(try file.attributeDouble("exp_mult", on: g)),
                           buggedLossFeatures: try file.attributeInt("use_bugged_loss_features", on: g) != 0,
                           referenceNonFinite: file.hasAttribute("reference_non_finite", on: g)
                               ? try file.attributeInt("reference_non_finite", on: g) != 0 : false)
        try c.validate()
        return VeLO(c)
    }

    public var settingsDescription: [String: String] {
        ["parametrization": config.parametrization.rawValue, "lstm_hidden_size": "\(config.lstmHidden)",
         "param_inits": "\(config.paramInits)", "interp_mult": "\(config.interpMult)", "param_scale_mult": "\(config.paramScaleMult)"]
    }
}
