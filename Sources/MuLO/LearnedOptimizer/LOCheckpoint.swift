import Foundation

/// θ files: the learned optimizer's meta-parameters under the reference names (METHOD §7.1,
/// e.g. `theta/nn/~/w0` [39, 32], `theta/momentum_decays` [3]) plus its fixed configuration as
/// attributes. Meta-training checkpoints hold the same group, so either is a valid input for
/// training, evaluation and export.
public enum LOCheckpoint {
    public static let kind = "mulo-lo-theta"

    /// A readable name for a θ file: its stem, or its run directory's name for a run's `theta.h5`.
    public static func displayName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        return stem == "theta" ? url.deletingLastPathComponent().lastPathComponent : stem
    }

    public static func writeTheta(_ theta: LOTheta, to file: HDF5File, group: String = "theta") throws {
        for (name, t) in zip(LOTheta.names, theta.tensors) { try file.write("\(group)/\(name)", t) }
    }

    /// Writes θ and its configuration to `path` atomically. `metadata` adds string attributes.
    public static func save(_ theta: LOTheta, config: LOConfig, to path: String,
                            metadata: [String: String] = [:]) throws {
        let file = try HDF5File.create(path)
        try writeTheta(theta, to: file)
        try writeConfig(config, to: file, on: "theta")
        try file.setAttribute("kind", kind)
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { try file.setAttribute(k, v) }
        try file.commit()
    }

    static func writeConfig(_ config: LOConfig, to file: HDF5File, on group: String) throws {
        try file.setAttribute("parametrization", config.parametrization.rawValue, on: group)
        try file.setAttribute("step_mult", Double(config.stepMult), on: group)
        try file.setAttribute("exp_mult", Double(config.expMult), on: group)
        try file.setAttribute("hidden_size", config.hiddenSize, on: group)
        try file.setAttribute("base_momentum_decays", config.baseMomentumDecays.map(Double.init), on: group)
        try file.setAttribute("base_rms_decays", config.baseRMSDecays.map(Double.init), on: group)
        try file.setAttribute("base_adafactor_decays", config.baseAdafactorDecays.map(Double.init), on: group)
    }

    /// Reads θ and its configuration from a θ file or a meta-training checkpoint. A file that
    /// is not a learned optimizer is a clear error naming what is missing.
    public static func load(_ path: String) throws -> (theta: LOTheta, config: LOConfig) {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard file.isGroup("theta") else {
            throw LOError("\(path) is not a learned-optimizer file: it has no `theta` group (make one with `mulo lo-init` or `mulo meta-train`)")
        }
        let theta = try ReferenceChecker.readTheta(file, group: "theta")
        let g = "theta"
        let p = try file.attributeString("parametrization", on: g)
        guard let parametrization = Parametrization(rawValue: p) else {
            throw LOError("\(path): parametrization '\(p)' is neither 'mu' nor 'sp'")
        }
        let config = LOConfig(parametrization: parametrization,
                              stepMult: Float(try file.attributeDouble("step_mult", on: g)),
                              expMult: Float(try file.attributeDouble("exp_mult", on: g)),
                              hiddenSize: try file.attributeInt("hidden_size", on: g),
                              baseMomentumDecays: try file.attributeDoubles("base_momentum_decays", on: g).map(Float.init),
                              baseRMSDecays: try file.attributeDoubles("base_rms_decays", on: g).map(Float.init),
                              baseAdafactorDecays: try file.attributeDoubles("base_adafactor_decays", on: g).map(Float.init))
        guard theta.hiddenSize == config.hiddenSize, config.baseMomentumDecays.count == 3,
              config.baseRMSDecays.count == 1, config.baseAdafactorDecays.count == 3 else {
            throw LOError("\(path): θ and its configuration disagree (hidden size or decay counts)")
        }
        return (theta, config)
    }
}
