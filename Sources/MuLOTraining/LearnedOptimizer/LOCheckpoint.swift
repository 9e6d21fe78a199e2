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

    /// θ of `architecture` under its names in `group`, and its configuration as the group's
    /// attributes (with `architecture` unless it is small_fc_lopt, as in files from before there were others).
    public static func writeTheta<A: LearnedOptimizerArchitecture>(_ theta: MetaParameters, of architecture: A,
                                                                   to file: HDF5File, group: String = "theta") throws {
        for (name, t) in zip(architecture.thetaNames, theta.tensors) { try file.write("\(group)/\(name)", t) }
        try architecture.writeConfig(to: file, on: group)
        if A.name != SmallFCLOpt.name { try file.setAttribute("architecture", A.name, on: group) }
    }

    /// θ of `architecture` from `group`, every tensor checked against its name and shape and
    /// every value finite (meta-training never writes a non-finite θ: it would be a corrupt file).
    public static func readTheta<A: LearnedOptimizerArchitecture>(_ file: HDF5File, of architecture: A,
                                                                  group: String = "theta") throws -> MetaParameters {
        let theta = MetaParameters(try zip(architecture.thetaNames, architecture.thetaShapes).map { name, shape in
            try file.readTensor("\(group)/\(name)", expectShape: shape)
        })
        try check(theta, of: architecture, group: group)
        return theta
    }

    /// What every θ from outside (a file, an import) must satisfy: finite values, each in its
    /// architecture's domain (`checkTheta`).
    public static func check<A: LearnedOptimizerArchitecture>(_ theta: MetaParameters, of architecture: A, group: String = "theta") throws {
        for (name, t) in zip(architecture.thetaNames, theta.tensors) where !t.data.allSatisfy(\.isFinite) {
            throw LOError("\(group)/\(name) holds non-finite values")
        }
        try architecture.checkTheta(theta)
    }

    /// Writes θ and its configuration to `path` atomically. `metadata` adds string attributes.
    public static func save(_ theta: LOTheta, config: LOConfig, to path: String,
                            metadata: [String: String] = [:]) throws {
        try save(theta.parameters, of: SmallFCLOpt(config), to: path, metadata: metadata)
    }

    public static func save<A: LearnedOptimizerArchitecture>(_ theta: MetaParameters, of architecture: A, to path: String,
                                                             metadata: [String: String] = [:]) throws {
        let file = try HDF5File.create(path)
        try writeTheta(theta, of: architecture, to: file)
        try file.setAttribute("kind", kind)
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { try file.setAttribute(k, v) }
        try file.commit()
    }

    /// Reads θ and its architecture's configuration from a θ file or a meta-training checkpoint.
    /// A file that is not a learned optimizer is a clear error naming what is missing.
    public static func loadAny(_ path: String) throws -> TrainedLearnedOptimizer {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard file.isGroup("theta") else {
            throw LOError("\(path) is not a learned-optimizer file: it has no `theta` group (make one with `mulo lo-init` or `mulo meta-train`)")
        }
        let name = file.hasAttribute("architecture", on: "theta") ? try file.attributeString("architecture", on: "theta") : SmallFCLOpt.name
        func read<A: LearnedOptimizerArchitecture>(_: A.Type) throws -> TrainedLearnedOptimizer {
            let architecture = try A.readConfig(from: file, on: "theta")
            return TrainedLearnedOptimizer(architecture: architecture, theta: try readTheta(file, of: architecture))
        }
        do { return try read(try LearnedOptimizerRegistry.architecture(named: name)) } catch let e as LOError {
            throw LOError("\(path): \(e.message)")
        }
    }

    /// small_fc_lopt's θ and configuration (for what only it has, such as the PyLO export).
    public static func load(_ path: String) throws -> (theta: LOTheta, config: LOConfig) {
        let lo = try loadAny(path)
        guard let a = lo.architecture as? SmallFCLOpt else {
            throw LOError("\(path) holds a \(lo.architectureName) learned optimizer; this needs small_fc_lopt")
        }
        return (try LOTheta(lo.theta), a.config)
    }
}
