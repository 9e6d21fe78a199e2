/// MLP task names (METHOD §5): `{mlp|mumlp}-w{W}-d{D}_{dataset}`, e.g. `mumlp-w128-d3_fashionmnist-28x28x1`.
public struct MLPTaskName: TaskSpec, Hashable {
    /// The registry's entry for MLPs.
    public static let family = TaskRegistry.Family(prefixes: ["mlp", "mumlp"], forms: validForms) { try MLPTaskName(parsing: $0) }

    public let parametrization: Parametrization
    public let width: Int
    public let depth: Int
    public let dataset: DatasetName

    public static let validForms = """
        mlp-w{W}-d{D}_{dataset} (standard parametrization) or \
        mumlp-w{W}-d{D}_{dataset} (μP), W ≥ 1, D ≥ 1, dataset {name}-{H}x{W}x{C}, \
        e.g. mumlp-w128-d3_fashionmnist-28x28x1
        """

    public init(parametrization: Parametrization, width: Int, depth: Int, dataset: DatasetName) {
        self.parametrization = parametrization
        self.width = width
        self.depth = depth
        self.dataset = dataset
    }

    public init(parsing text: String) throws {
        func bad(_ why: String) -> TaskError { TaskError("task '\(text)': \(why); valid task names: \(TaskRegistry.validForms)") }
        guard let us = text.firstIndex(of: "_") else { throw bad("missing '_{dataset}'") }
        let parts = text[..<us].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw bad("model part must be {model}-w{W}-d{D}") }
        let p: Parametrization
        switch parts[0] {
        case "mlp": p = .standard
        case "mumlp": p = .mup
        default: throw bad("unknown model '\(parts[0])'")
        }
        guard parts[1].first == "w", let w = Int(parts[1].dropFirst()), w >= 1 else {
            throw bad("width must be w{W} with W ≥ 1")
        }
        guard parts[2].first == "d", let d = Int(parts[2].dropFirst()), d >= 1 else {
            throw bad("depth must be d{D} with D ≥ 1")
        }
        let ds: DatasetName
        do { ds = try DatasetName(parsing: String(text[text.index(after: us)...])) } catch let e as DataError {
            throw bad(e.message)
        }
        self.init(parametrization: p, width: w, depth: d, dataset: ds)
    }

    public var description: String {
        "\(parametrization == .mup ? "mumlp" : "mlp")-w\(width)-d\(depth)_\(dataset)"
    }

    public func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec {
        MLPTaskName(parametrization: parametrization, width: width, depth: depth, dataset: dataset)
    }

    public func makeTask(dataDir: String?) throws -> any Task { try makeMLPTask(dataDir: dataDir) }

    /// Builds the task, loading its dataset.
    public func makeMLPTask(dataDir: String? = nil) throws -> MLPTask {
        let ds = try DatasetLoader.load(dataset, dataDir: dataDir)
        let config = MLPConfig(inputDim: ds.inputDim, hiddenWidths: Array(repeating: width, count: depth),
                               classes: ds.classes, parametrization: parametrization)
        return MLPTask(name: description, config: config, dataset: ds)
    }
}
