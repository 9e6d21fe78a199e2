import Foundation

/// An optimizer under evaluation: a learned one from a θ file, or a hand-designed baseline.
/// Each trains the task in its own parametrization: μLOs and μAdam the μP MLP (`mumlp-…`), SP
/// LOs, AdamW and SGD the standard one (`mlp-…`).
public struct EvalOptimizer: Sendable {
    public enum Kind: Sendable {
        case learned(TrainedLearnedOptimizer, path: String)
        case baseline(HandDesigned, HandDesigned.Settings)
    }

    public let kind: Kind
    /// A short, file-name-safe key (`adamw`, `lo-<file>`).
    public let key: String
    public let label: String

    public init(kind: Kind, key: String, label: String) {
        (self.kind, self.key, self.label) = (kind, key, label)
    }

    public static func learned(path: String) throws -> EvalOptimizer {
        let lo = try LOCheckpoint.loadAny(path)
        let stem = LOCheckpoint.displayName(path)
        let safe = String(stem.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return EvalOptimizer(kind: .learned(lo, path: path), key: "lo-\(safe)", label: "\(lo.architecture.displayName) \(stem)")
    }

    public var parametrization: Parametrization {
        switch kind {
        case .learned(let lo, _): return lo.parametrization
        case .baseline(let b, _): return b.parametrization
        }
    }

    public func make(totalSteps: Int) -> any Optimizer {
        switch kind {
        case .learned(let lo, _): return lo.makeOptimizer()
        case .baseline(let b, var s):
            s.totalSteps = totalSteps
            return b.make(s)
        }
    }

    /// FLOPs of one update of `task`'s parameters, for cost estimates. A hand-designed step's
    /// ~10 FLOP per parameter (about 1% of a batch-128 forward-backward) is left out.
    public func updateFlops(for task: any Task) -> Double {
        switch kind {
        case .learned(let lo, _):
            return lo.architecture.flopsPerParameter * Double(task.parameterCount)
                + lo.architecture.flopsPerTensor * Double(task.parameterSpecs.count)
        case .baseline: return 0
        }
    }

    public var settingsDescription: [String: String] {
        switch kind {
        case .learned(let lo, let path):
            // small_fc_lopt's records keep exactly the keys of files from before there were other architectures.
            var d = lo.architectureName == SmallFCLOpt.name ? lo.architecture.settingsDescription.filter { $0.key != "exp_mult" }
                : lo.settingsDescription
            (d["checkpoint"], d["theta_fingerprint"]) = (path, lo.theta.fingerprint)
            return d
        case .baseline(let b, let s): return b.describe(s)
        }
    }
}

/// Task templates: `{W}` for the width; the model prefix follows each optimizer's parametrization
/// and `depth`, if given, replaces the template's `-d<D>_`.
public struct TaskTemplate: Sendable {
    public let template: String

    public init(_ template: String) throws {
        guard template.contains("{W}") else {
            throw TaskError("task template '\(template)' has no {W}; e.g. mumlp-w{W}-d3_fashionmnist-28x28x1")
        }
        base = try TaskRegistry.parse(template.replacingOccurrences(of: "{W}", with: "8"))
        self.template = template
    }

    /// The template's task, parsed once (at width 8).
    private let base: any TaskSpec

    /// The template's own task at `width`.
    public func name(width: Int) throws -> any TaskSpec { try name(width: width, depth: nil, parametrization: base.parametrization) }

    /// The template as an optimizer of `parametrization` runs it: its model prefix and `depth`.
    public func template(depth: Int?, parametrization: Parametrization) -> String {
        let spec = base.with(width: 8, depth: depth ?? base.depth, parametrization: parametrization).description
        guard let w = spec.range(of: "-w8-") else { return template }
        return spec.replacingCharacters(in: w, with: "-w{W}-")
    }

    /// The task at `width` (and `depth`), checked by the same parser as a typed task name, so a
    /// width or depth from a flag meets the same limits (no unchecked sizes reach allocation).
    public func name(width: Int, depth: Int?, parametrization: Parametrization) throws -> any TaskSpec {
        try TaskRegistry.parse(base.with(width: width, depth: depth ?? base.depth, parametrization: parametrization).description)
    }
}
