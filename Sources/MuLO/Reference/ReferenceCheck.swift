import Foundation

/// One comparison of MuLO's numbers against a reference file.
public struct ReferenceCheck: Sendable {
    public let name: String
    public let maxAbsError: Float
    public let maxRelError: Float
    public let tolerance: Float
    public let absolute: Bool
    /// Every element satisfies |ours − ref| ≤ tolerance·max(1, |ref|) (absolute for |ref| ≤ 1,
    /// relative above), or |ours − ref| ≤ tolerance when `absolute`.
    public let passed: Bool

    public init(name: String, ours: [Float], reference: [Float], tolerance: Float, absolute: Bool = false) {
        var maxAbs: Float = 0, maxRel: Float = 0
        var ok = ours.count == reference.count
        for (a, b) in zip(ours, reference) {
            let err = abs(a - b)
            // NaN never compares ≤, so a NaN on either side fails.
            if !(err <= tolerance * (absolute ? 1 : max(1, abs(b)))) { ok = false }
            maxAbs = err.isNaN ? .nan : max(maxAbs, err)
            maxRel = err.isNaN ? .nan : max(maxRel, err / max(abs(b), .leastNormalMagnitude))
        }
        self.name = name
        self.maxAbsError = maxAbs
        self.maxRelError = maxRel
        self.tolerance = tolerance
        self.absolute = absolute
        self.passed = ok
    }

    public var line: String {
        String(format: "%@  %-44@ max abs err %.3e  max rel err %.3e  (%@ tol %.0e)",
               passed ? "ok  " : "FAIL", name, maxAbsError, maxRelError, absolute ? "abs" : "abs/rel", tolerance)
    }
}

/// Checks this build's numerics against a golden file in the format of
/// `shared/golden/small_fc_lopt.h5` (see its README).
public enum ReferenceChecker {
    /// The golden file: `$MULO_GOLDEN` if set, else `../shared/golden/small_fc_lopt.h5` next to the repo.
    public static func defaultGoldenPath(repoRoot: String = FileManager.default.currentDirectoryPath) -> String {
        if let env = ProcessInfo.processInfo.environment["MULO_GOLDEN"], !env.isEmpty { return env }
        return URL(fileURLWithPath: repoRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/golden/small_fc_lopt.h5").path
    }

    /// Every golden file beside the default one that this build checks (those present): the
    /// optimizer on matrices, on N-d tensors, and the transformer tasks. `$MULO_GOLDEN` names one instead.
    public static func defaultGoldenPaths(repoRoot: String = FileManager.default.currentDirectoryPath) -> [String] {
        let first = defaultGoldenPath(repoRoot: repoRoot)
        if let env = ProcessInfo.processInfo.environment["MULO_GOLDEN"], !env.isEmpty { return [first] }
        let dir = URL(fileURLWithPath: first).deletingLastPathComponent()
        return [first] + ["small_fc_lopt_nd.h5", "transformer_tasks.h5", "velo.h5"].map { dir.appendingPathComponent($0).path }
            .filter(FileManager.default.fileExists)
    }

    public static let taskTolerance: Float = 1e-5

    /// The `mumlp_task` group: logits, loss, every gradient and every lr_scale of one μP MLP.
    public static func checkMuMLPTask(_ file: HDF5File, group: String = "mumlp_task") throws -> [ReferenceCheck] {
        let widths = try file.attributeInts("widths", on: group)
        let config = MLPConfig(inputDim: try file.attributeInt("input_dim", on: group), hiddenWidths: widths,
                               classes: try file.attributeInt("classes", on: group), parametrization: .mup,
                               inputMult: Float(try file.attributeDouble("input_mult", on: group)),
                               outputMult: Float(try file.attributeDouble("output_mult", on: group)))
        let layers = try file.attributeInt("layers", on: group)
        guard layers == config.layerCount else {
            throw HDF5Error(file: file.path, object: group,
                            message: "layers = \(layers) but widths \(widths) give \(config.layerCount) layers")
        }
        let specs = config.parameterSpecs
        let params = try specs.map { try file.readTensor("\(group)/params/\($0.name)", expectShape: $0.shape) }
        let x = try file.readTensor("\(group)/x")
        let y = try file.read("\(group)/y", as: Int32.self).values
        guard x.shape == [y.count, config.inputDim] else {
            throw HDF5Error(file: file.path, object: "\(group)/x", message: "shape \(x.shape), expected [\(y.count), \(config.inputDim)]")
        }
        let model = MLPModel(config: config)
        let batch = Batch(inputs: x.data, labels: y, inputDim: config.inputDim)
        let ws = model.makeWorkspace(batchSize: y.count)
        var grads = specs.map { Tensor(zeros: $0.shape) }
        let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: ws)
        let tol = taskTolerance
        var checks = [
            ReferenceCheck(name: "\(group)/logits", ours: model.logits(ws),
                           reference: try file.readTensor("\(group)/logits", expectShape: [y.count, config.classes]).data,
                           tolerance: tol),
            ReferenceCheck(name: "\(group)/loss", ours: [loss],
                           reference: [try file.readScalar("\(group)/loss", as: Float.self)], tolerance: tol),
        ]
        for (spec, g) in zip(specs, grads) {
            checks.append(ReferenceCheck(name: "\(group)/grads/\(spec.name)", ours: g.data,
                                         reference: try file.readTensor("\(group)/grads/\(spec.name)", expectShape: spec.shape).data,
                                         tolerance: tol))
        }
        for spec in specs {
            checks.append(ReferenceCheck(name: "\(group)/lr_scale/\(spec.name)", ours: [spec.updateScale],
                                         reference: [try file.readScalar("\(group)/lr_scale/\(spec.name)", as: Float.self)],
                                         tolerance: tol))
        }
        return checks
    }

    /// Every check this build knows for `path`.
    public static func checkAll(path: String) throws -> [ReferenceCheck] {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        var checks = file.exists("mumlp_task") ? try checkMuMLPTask(file) : []
        for group in languageModelGroups where file.exists(group) { checks += try checkLanguageModel(file, group: group) }
        for group in visionGroups where file.exists(group) { checks += try checkViT(file, group: group) }
        if file.exists("factoring") { checks += try checkFactoring(file) }
        let veloCases = try veloCaseNames(file)
        for name in veloCases {
            for impl in LearnedOptimizer.Implementation.allCases { checks += try checkVeLOCase(file, name: name, implementation: impl) }
        }
        for name in try caseNames(file) where !veloCases.contains(name) {
            for impl in LearnedOptimizer.Implementation.allCases {
                checks += try checkCase(file, name: name, implementation: impl)
            }
        }
        guard !checks.isEmpty else {
            throw HDF5Error(file: path, object: "/", message: "no `mumlp_task`, `cases` or transformer groups to check")
        }
        return checks
    }
}
