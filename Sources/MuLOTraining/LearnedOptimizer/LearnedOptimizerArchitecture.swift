import Foundation

/// A learned-optimizer architecture (learned_optimization's LearnedOptimizer): its fixed
/// configuration, the layout of θ, θ's initialisation from a key, and the inner optimizer a θ
/// makes. Meta-training, checkpoints, MPI exchange and θ files are written once over this
/// protocol; an architecture is one folder that conforms to it.
public protocol LearnedOptimizerArchitecture: Sendable, Equatable {
    associatedtype Inner: Optimizer where Inner.State: LearnedOptimizerState
    /// The architecture's name in θ files (`theta@architecture`); files without one are small_fc_lopt's.
    static var name: String { get }
    var parametrization: Parametrization { get }
    /// θ's tensors in canonical order: their names (the reference's) and shapes.
    var thetaNames: [String] { get }
    var thetaShapes: [[Int]] { get }
    /// θ at the start of meta-training, from `key` (METHOD §2.6 for small_fc_lopt).
    func initialTheta(key: RNGKey) -> MetaParameters
    /// The inner optimizer of `theta` (whose layout was checked against `thetaShapes`).
    func makeOptimizer(theta: MetaParameters) -> Inner
    /// The fixed configuration, as attributes on θ's group of a θ file or checkpoint.
    func writeConfig(to file: HDF5File, on group: String) throws
    /// The configuration `writeConfig` wrote, every value checked (a clear error names the bad one).
    static func readConfig(from file: HDF5File, on group: String) throws -> Self
    /// What identifies this configuration in run records (string values, e.g. `step_mult`).
    var settingsDescription: [String: String] { get }
    /// How plots and tables name it (default: the name, μ-prefixed in μP).
    var displayName: String { get }
    /// Rejects a θ read from a file whose values are outside their domain (beyond finiteness,
    /// which every reader checks); default: nothing more.
    func checkTheta(_ theta: MetaParameters) throws
    /// FLOPs of one update per parameter element and per tensor, after the exact reductions of
    /// the spec's cost model: the benchmarks' compute bounds and an evaluation's ETA (default
    /// per tensor: none).
    var flopsPerParameter: Double { get }
    var flopsPerTensor: Double { get }
}

extension LearnedOptimizerArchitecture {
    /// How plots and tables name it: the architecture's name, μ-prefixed in μP.
    public var displayName: String { parametrization == .mup ? "μ\(Self.name)" : Self.name }
    public func checkTheta(_ theta: MetaParameters) throws {}
    public var flopsPerTensor: Double { 0 }
}

/// A learned optimizer read from a file, whatever its architecture: what evaluation, `train`
/// and coord-check need without naming the architecture's type.
public struct TrainedLearnedOptimizer: Sendable {
    public let architecture: any LearnedOptimizerArchitecture
    public let theta: MetaParameters

    public init(architecture: any LearnedOptimizerArchitecture, theta: MetaParameters) {
        self.architecture = architecture
        self.theta = theta
    }

    public var architectureName: String { type(of: architecture).name }
    public var parametrization: Parametrization { architecture.parametrization }
    public func makeOptimizer() -> any Optimizer { architecture.makeOptimizer(theta: theta) }

    /// The architecture's settings plus θ's fingerprint, for run records.
    public var settingsDescription: [String: String] {
        var d = architecture.settingsDescription
        d["architecture"] = architectureName
        return d
    }
}

/// The learned-optimizer architectures θ files may hold, by `theta@architecture` (files without
/// one are small_fc_lopt's). A new architecture is one folder and one `register` call.
public enum LearnedOptimizerRegistry {
    nonisolated(unsafe) private static var registered: [any LearnedOptimizerArchitecture.Type] = [SmallFCLOpt.self, VeLO.self]
    private static let lock = NSLock()

    public static var architectures: [any LearnedOptimizerArchitecture.Type] { lock.withLock { registered } }

    /// Adds an architecture whose name no registered one uses yet (a repeated call is a no-op).
    public static func register(_ architecture: any LearnedOptimizerArchitecture.Type) {
        lock.withLock {
            if !registered.contains(where: { $0.name == architecture.name }) { registered.append(architecture) }
        }
    }

    public static func architecture(named name: String) throws -> any LearnedOptimizerArchitecture.Type {
        guard let a = architectures.first(where: { $0.name == name }) else {
            throw LOError("unknown learned-optimizer architecture '\(name)'; known: \(architectures.map { $0.name }.joined(separator: ", "))")
        }
        return a
    }
}

/// θ of any architecture: its tensors in the architecture's canonical order, with the flat view
/// that evolution strategies perturb.
public struct MetaParameters: Sendable, Equatable {
    public var tensors: [Tensor]

    public init(_ tensors: [Tensor]) { self.tensors = tensors }

    public var count: Int { tensors.reduce(0) { $0 + $1.count } }

    /// All values concatenated in canonical order.
    public var flat: [Float] {
        get { tensors.flatMap(\.data) }
        set {
            precondition(newValue.count == count, "flat θ has \(newValue.count) values, expected \(count)")
            var offset = 0
            tensors = tensors.map { t in
                defer { offset += t.count }
                return Tensor(shape: t.shape, data: Array(newValue[offset..<(offset + t.count)]))
            }
        }
    }

    /// FNV-1a over the values' bits and shapes: tells two θ apart in run records, where a
    /// checkpoint's path alone would not (the file behind a path gets re-shipped).
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) { for b in 0..<8 { h = (h ^ ((v >> (8 * UInt64(b))) & 0xff)) &* 0x100_0000_01b3 } }
        for t in tensors {
            t.shape.forEach { mix(UInt64($0)) }
            t.data.forEach { mix(UInt64($0.bitPattern)) }
        }
        return String(h, radix: 16)
    }
}

/// A learned optimizer's state: an `OptimizerState` (the one description of its layout that
/// checkpoints and MPI messages both follow, so they cannot disagree) whose values compare.
public protocol LearnedOptimizerState: OptimizerState, Equatable {}
